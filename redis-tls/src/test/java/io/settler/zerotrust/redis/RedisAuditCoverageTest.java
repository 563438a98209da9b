package io.settler.zerotrust.redis;

import static org.assertj.core.api.Assertions.assertThat;

import io.settler.zerotrust.audit.AuditCoverage;
import java.util.List;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;

/** Every entry of redis-tls's catalogue is emitted by some test of this module: runs after all of them. */
@Order(Integer.MAX_VALUE)
class RedisAuditCoverageTest {

    @Test
    void everyRedisDecisionIsEmittedByATest() {
        AuditCoverage coverage = AuditCoverage.fromSystemProperty().orElseThrow(() -> new AssertionError(
                "run with -D" + AuditCoverage.DIRECTORY_PROPERTY + "=<dir>, as the build does"));
        assertThat(coverage.unemitted(List.of(RedisAudit.values()))).isEmpty();
    }
}
