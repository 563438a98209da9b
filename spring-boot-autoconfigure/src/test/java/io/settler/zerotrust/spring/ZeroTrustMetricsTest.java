package io.settler.zerotrust.spring;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.settler.zerotrust.audit.AuditLog;
import io.settler.zerotrust.tls.MtlsContext;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.ssl.SslBundles;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

/** Without a web server: the library's beans, metrics when there is a registry, and the SSL bundle. */
class ZeroTrustMetricsTest {

    @TempDir
    Path certs;

    private ApplicationContextRunner runner() {
        return new TestZone(certs).runner(Map.of());
    }

    @Test
    void countsDecisionsAndWatchesCredentialsWhenThereIsAMeterRegistry() {
        runner().withBean(MeterRegistry.class, SimpleMeterRegistry::new).run(context -> {
            assertThat(context).hasNotFailed().hasSingleBean(MtlsContext.class);
            MeterRegistry registry = context.getBean(MeterRegistry.class);
            assertThat(registry.find("zerotrust.credentials.validity.remaining").gauge()).isNotNull();
            assertThat(registry.find("zerotrust.tls.contexts").tag("action", "tls.posture").counter())
                    .as("the server context's posture event, counted").isNotNull();
            assertThat(context.getBean(SslBundles.class).getBundle(ZeroTrustAutoConfiguration.SSL_BUNDLE)
                    .getProtocol()).isEqualTo("TLSv1.3");
        });
    }

    @Test
    void logsOnlyWithoutAMeterRegistry() {
        runner().run(context -> {
            assertThat(context).hasNotFailed();
            assertThat(context.getBean(AuditLog.class)).isSameAs(AuditLog.slf4j());
        });
    }
}
