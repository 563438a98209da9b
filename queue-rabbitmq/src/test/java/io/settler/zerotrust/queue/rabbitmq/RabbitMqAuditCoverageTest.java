package io.settler.zerotrust.queue.rabbitmq;

import static org.assertj.core.api.Assertions.assertThat;

import io.settler.zerotrust.audit.AuditCoverage;
import java.util.List;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;

/** Every entry of the RabbitMQ catalogue is emitted by some test of this module: runs after all of them. */
@Order(Integer.MAX_VALUE)
class RabbitMqAuditCoverageTest {

    @Test
    void everyRabbitMqDecisionIsEmittedByATest() {
        AuditCoverage coverage = AuditCoverage.fromSystemProperty().orElseThrow(() -> new AssertionError(
                "run with -D" + AuditCoverage.DIRECTORY_PROPERTY + "=<dir>, as the build does"));
        assertThat(coverage.unemitted(List.of(RabbitMqAudit.values()))).isEmpty();
    }
}
