package io.settler.zerotrust.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.settler.zerotrust.spring.plain.PlainApplication;
import io.settler.zerotrust.testkit.RecordingAuditLog;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.SpringApplication;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.util.ClassUtils;

/**
 * An application with Jetty on its class path (failsafe adds {@code spring-boot-jetty} to this
 * module's integration tests only): Boot serves on Jetty, which the starter does not secure, so the
 * start fails with the setting to change instead of serving plaintext.
 */
class UnsecuredServerIT {

    @TempDir
    Path certs;

    @Test
    void refusesToStartAJettyServerItCannotSecure() {
        assertThat(ClassUtils.isPresent("org.springframework.boot.jetty.JettyWebServer", null))
                .as("run by failsafe, which adds spring-boot-jetty to the class path (not by surefire)").isTrue();
        TestZone zone = new TestZone(certs);
        RecordingAuditLog audit = new RecordingAuditLog();
        SpringApplication application = new SpringApplication(PlainApplication.class);
        application.setDefaultProperties(zone.properties());
        application.addInitializers(context -> context.getBeanFactory().registerSingleton("auditLog", audit));

        Throwable failure = catchThrowable(() -> {
            try (ConfigurableApplicationContext started = application.run()) {
                started.getId();
            }
        });

        ZeroTrustConfigurationException refusal = ZeroTrustStartupTest.refusal(failure);
        assertThat(refusal.reason()).isEqualTo(ZeroTrustConfigurationException.Reason.PLAINTEXT_SERVER);
        assertThat(refusal.setting()).isEqualTo("spring.main.web-application-type");
        assertThat(refusal.getMessage()).contains("Jetty", "not a server the starter has put on mutual TLS");
        assertThat(audit.single(SpringAudit.STARTUP_REFUSED).fields())
                .containsEntry("setting", "spring.main.web-application-type");
    }
}
