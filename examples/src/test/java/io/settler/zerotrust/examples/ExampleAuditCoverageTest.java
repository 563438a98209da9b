package io.settler.zerotrust.examples;

import static org.assertj.core.api.Assertions.assertThat;

import io.settler.zerotrust.audit.AuditCoverage;
import java.util.List;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;

/** Every entry of the examples' own catalogue is emitted by some test of this module: runs after all of them. */
@Order(Integer.MAX_VALUE)
class ExampleAuditCoverageTest {

    @Test
    void everyExampleDecisionIsEmittedByATest() {
        AuditCoverage coverage = AuditCoverage.fromSystemProperty().orElseThrow(() -> new AssertionError(
                "run with -D" + AuditCoverage.DIRECTORY_PROPERTY + "=<dir>, as the build does"));
        assertThat(coverage.unemitted(List.of(ExampleAudit.values()))).isEmpty();
    }
}
