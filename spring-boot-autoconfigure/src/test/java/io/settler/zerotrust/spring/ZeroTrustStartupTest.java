package io.settler.zerotrust.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.settler.zerotrust.audit.AuditLog;
import io.settler.zerotrust.spring.app.OrdersApplication;
import io.settler.zerotrust.testkit.RecordingAuditLog;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.diagnostics.FailureAnalyzer;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.core.io.support.SpringFactoriesLoader;

/** Each missing or insecure setting stops the start with a typed failure that says what to fix. */
class ZeroTrustStartupTest {

    @TempDir
    static Path certs;

    private static TestZone zone;

    @BeforeAll
    static void zone() {
        zone = new TestZone(certs);
    }

    /** Starts the whole application with the working properties changed; returns the refusal. */
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
        return refusal(failure);
    }

    /** Starts the library's beans alone (no web server) with the properties changed; returns the refusal. */
    private static ZeroTrustConfigurationException refusedBeans(Map<String, String> changes, String... removed) {
        AtomicReference<Throwable> failure = new AtomicReference<>();
        zone.runner(changes, removed).withBean(AuditLog.class, RecordingAuditLog::new)
                .run(context -> failure.set(context.getStartupFailure()));
        return refusal(failure.get());
    }

    /** The refusal in a failed start, which the failure analyzer reports with the setting to fix. */
    static ZeroTrustConfigurationException refusal(Throwable failure) {
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
    void bootReportsTheRefusalWithTheFailureAnalyzer() {
        // Boot's own analyzers that take constructor arguments are skipped: only the registration counts here.
        assertThat(SpringFactoriesLoader.forDefaultResourceLocation().load(FailureAnalyzer.class, null,
                (type, name, failure) -> { })).hasAtLeastOneElementOfType(ZeroTrustFailureAnalyzer.class);
    }

    @Test
    void refusesToStartWithoutCredentials() {
        ZeroTrustConfigurationException refusal = refusedStart(Map.of(), "zerotrust.credentials.certificate");
        assertThat(refusal.reason()).isEqualTo(ZeroTrustConfigurationException.Reason.MISSING_SETTING);
        assertThat(refusal.setting()).isEqualTo("zerotrust.credentials.certificate");
    }

    @Test
    void refusesToStartWithUnreadableFiles() {
        ZeroTrustConfigurationException refusal = refusedBeans(Map.of("zerotrust.credentials.key",
                certs.resolve("missing.key").toString()));
        assertThat(refusal.reason()).isEqualTo(ZeroTrustConfigurationException.Reason.UNREADABLE_FILE);
        assertThat(refusal).hasMessageContaining("missing.key");
    }

    @Test
    void refusesToStartWithoutAPolicy() {
        ZeroTrustConfigurationException refusal = refusedBeans(Map.of("zerotrust.policy",
                "file:" + certs.resolve("nowhere.json")));
        assertThat(refusal.reason()).isEqualTo(ZeroTrustConfigurationException.Reason.UNREADABLE_FILE);
        assertThat(refusal.setting()).isEqualTo("zerotrust.policy");
    }

    @Test
    void refusesToStartAsAServiceThePolicyDoesNotKnow() {
        ZeroTrustConfigurationException refusal = refusedBeans(Map.of("zerotrust.service", "billing"));
        assertThat(refusal.reason()).isEqualTo(ZeroTrustConfigurationException.Reason.UNKNOWN_SERVICE);
        assertThat(refusal).hasMessageContaining("billing").hasMessageContaining("[api, stock, gateway, worker]");
    }

    @Test
    void refusesToStartWithAnotherServicesCertificate() {
        ZeroTrustConfigurationException refusal = refusedBeans(Map.of("zerotrust.service", "gateway"));
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
