package io.settler.zerotrust.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.settler.zerotrust.testkit.RecordingAuditLog;
import org.junit.jupiter.api.Test;
import org.springframework.boot.SpringBootVersion;
import org.springframework.context.support.GenericApplicationContext;

/** No Spring Boot the starter does not support starts ({@link UnsecuredServerIT}: nor a server it does not secure). */
class ServerGuardTest {

    @Test
    void refusesSpringBoot3() {
        RecordingAuditLog audit = new RecordingAuditLog();
        try (GenericApplicationContext context = new GenericApplicationContext()) {
            context.refresh();
            ServerGuard guard = new ServerGuard("3.5.7", context,
                    context.getBeanProvider(ServerSecurer.class), new StartupChecks(audit));

            assertThatThrownBy(guard::afterSingletonsInstantiated)
                    .isInstanceOfSatisfying(ZeroTrustConfigurationException.class, refusal -> {
                        assertThat(refusal.reason())
                                .isEqualTo(ZeroTrustConfigurationException.Reason.UNSUPPORTED_SPRING_BOOT);
                        assertThat(refusal.getMessage()).contains("Spring Boot 3.5.7 is not supported", "4.0");
                    });
            assertThat(audit.single(SpringAudit.STARTUP_REFUSED).fields())
                    .containsEntry("setting", "spring-boot.version");
        }
    }

    @Test
    void letsAnApplicationWithoutAWebServerStartOnTheBootItRuns() {
        RecordingAuditLog audit = new RecordingAuditLog();
        try (GenericApplicationContext context = new GenericApplicationContext()) {
            context.refresh();
            new ServerGuard(SpringBootVersion.getVersion(), context,
                    context.getBeanProvider(ServerSecurer.class), new StartupChecks(audit))
                    .afterSingletonsInstantiated();
            assertThat(SpringBootVersion.getVersion()).startsWith("4.");
            assertThat(audit.events()).isEmpty();
        }
    }
}
