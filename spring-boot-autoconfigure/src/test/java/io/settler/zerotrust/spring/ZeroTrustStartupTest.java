package io.settler.zerotrust.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.settler.zerotrust.spring.app.OrdersApplication;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.context.ConfigurableApplicationContext;

/** Each missing or insecure setting stops the start with a typed failure that says what to fix. */
class ZeroTrustStartupTest {

    @TempDir
    static Path certs;

    private static TestZone zone;

    @BeforeAll
    static void zone() {
        zone = new TestZone(certs);
    }

    /** Starts the application with the working properties changed; returns the refusal. */
    private static ZeroTrustConfigurationException refusedStart(Map<String, String> changes, String... removed) {
        Map<String, Object> properties = zone.properties();
        for (String key : removed) {
            properties.remove(key);
        }
        properties.putAll(changes);
        SpringApplication application = new SpringApplication(OrdersApplication.class);
        application.setDefaultProperties(properties);
        Throwable failure = catchThrowable(() -> {
            try (ConfigurableApplicationContext started = application.run()) {
                started.getId();
            }
        });
        assertThat(failure).as("the start must fail").isNotNull();
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof ZeroTrustConfigurationException refusal) {
                FailureAnalysis analysis = new ZeroTrustFailureAnalyzer().analyze(failure);
                assertThat(analysis.getDescription()).contains(refusal.getMessage());
                assertThat(analysis.getAction()).contains(refusal.setting());
                return refusal;
            }
        }
        throw new AssertionError("not a ZeroTrustConfigurationException", failure);
    }

    @Test
    void refusesToStartWithoutCredentials() {
        ZeroTrustConfigurationException refusal = refusedStart(Map.of(), "zerotrust.credentials.certificate");
        assertThat(refusal.reason()).isEqualTo(ZeroTrustConfigurationException.Reason.MISSING_SETTING);
        assertThat(refusal.setting()).isEqualTo("zerotrust.credentials.certificate");
    }

    @Test
    void refusesToStartWithUnreadableFiles() {
        ZeroTrustConfigurationException refusal = refusedStart(Map.of("zerotrust.credentials.key",
                certs.resolve("missing.key").toString()));
        assertThat(refusal.reason()).isEqualTo(ZeroTrustConfigurationException.Reason.UNREADABLE_FILE);
        assertThat(refusal).hasMessageContaining("missing.key");
    }

    @Test
    void refusesToStartWithoutAPolicy() {
        ZeroTrustConfigurationException refusal = refusedStart(Map.of("zerotrust.policy",
                "file:" + certs.resolve("nowhere.json")));
        assertThat(refusal.reason()).isEqualTo(ZeroTrustConfigurationException.Reason.UNREADABLE_FILE);
        assertThat(refusal.setting()).isEqualTo("zerotrust.policy");
    }

    @Test
    void refusesToStartAsAServiceThePolicyDoesNotKnow() {
        ZeroTrustConfigurationException refusal = refusedStart(Map.of("zerotrust.service", "billing"));
        assertThat(refusal.reason()).isEqualTo(ZeroTrustConfigurationException.Reason.UNKNOWN_SERVICE);
        assertThat(refusal).hasMessageContaining("billing").hasMessageContaining("[api, gateway, worker]");
    }

    @Test
    void refusesToStartWithAnotherServicesCertificate() {
        ZeroTrustConfigurationException refusal = refusedStart(Map.of("zerotrust.service", "gateway"));
        assertThat(refusal.reason()).isEqualTo(ZeroTrustConfigurationException.Reason.IDENTITY_MISMATCH);
    }

    @Test
    void refusesToStartAPlaintextServer() {
        ZeroTrustConfigurationException refusal = refusedStart(Map.of("server.ssl.enabled", "false"));
        assertThat(refusal.reason()).isEqualTo(ZeroTrustConfigurationException.Reason.PLAINTEXT_SERVER);
        assertThat(refusal.setting()).isEqualTo("server.ssl.enabled");
    }

    @Test
    void refusesToStartWithoutRequiredClientAuth() {
        ZeroTrustConfigurationException refusal = refusedStart(Map.of("server.ssl.client-auth", "want"));
        assertThat(refusal.reason()).isEqualTo(ZeroTrustConfigurationException.Reason.CLIENT_AUTH_NOT_REQUIRED);
    }

    @Test
    void refusesToStartWithoutTokenIssuers() {
        ZeroTrustConfigurationException refusal = refusedStart(Map.of(), "zerotrust.tokens.issuers.gateway.jwks",
                "zerotrust.tokens.issuers.worker.jwks");
        assertThat(refusal.reason()).isEqualTo(ZeroTrustConfigurationException.Reason.MISSING_SETTING);
        assertThat(refusal.setting()).isEqualTo("zerotrust.tokens.issuers");
    }
}
