package io.settler.zerotrust.spring;

import static org.assertj.core.api.Assertions.assertThat;

import io.lettuce.core.api.StatefulRedisConnection;
import io.settler.zerotrust.audit.AuditLog;
import io.settler.zerotrust.redis.HardenedRedis;
import io.settler.zerotrust.testkit.LocalRedis;
import io.settler.zerotrust.testkit.RecordingAuditLog;
import io.settler.zerotrust.testkit.TlsRedis;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.data.redis.autoconfigure.DataRedisAutoConfiguration;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.boot.health.contributor.Status;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.data.redis.connection.RedisConnection;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.core.StringRedisTemplate;

/**
 * {@code zerotrust.redis.*} on the testkit's TLS Redis: the proven connection's round trip, the
 * {@code zerotrustRedis} health component, and a start-up failure naming the property for each
 * insecure or missing setting.
 */
@TlsRedis
class ZeroTrustRedisTest {

    private static final String SECRET = "spring-redis-secret";

    @TempDir
    static Path certs;

    private static LocalRedis redis;
    private static TestZone zone;

    @BeforeAll
    static void start(LocalRedis server) throws IOException {
        redis = server;
        zone = new TestZone(certs, redis.certificateAuthority());
        redis.createUser("api", SECRET, "~api:* +get +set +@connection +acl|whoami +client|info");
        Files.writeString(certs.resolve("redis-password"), SECRET + "\n");
        Files.writeString(certs.resolve("wrong-password"), "not-the-secret\n");
    }

    private static ApplicationContextRunner runner(Map<String, String> changes, String... removed) {
        Map<String, String> properties = new LinkedHashMap<>();
        properties.put("zerotrust.redis.uri", redis.uri());
        properties.put("zerotrust.redis.password-file", certs.resolve("redis-password").toString());
        for (String key : removed) {
            properties.remove(key);
        }
        properties.putAll(changes);
        return zone.runner(properties).withConfiguration(AutoConfigurations.of(ZeroTrustRedisAutoConfiguration.class))
                .withBean(AuditLog.class, RecordingAuditLog::new);
    }

    private static ZeroTrustConfigurationException refusedStart(Map<String, String> changes, String... removed) {
        AtomicReference<Throwable> failure = new AtomicReference<>();
        runner(changes, removed).run(context -> failure.set(context.getStartupFailure()));
        return ZeroTrustStartupTest.refusal(failure.get());
    }

    @Test
    void roundTripsOnTheProvenConnectionAndReportsItsHealth() {
        runner(Map.of()).run(context -> {
            assertThat(context.getBean(HardenedRedis.class).user()).isEqualTo("api"); // zerotrust.service
            @SuppressWarnings("unchecked")
            StatefulRedisConnection<String, String> connection = context.getBean(StatefulRedisConnection.class);
            connection.sync().set("api:greeting", "hello over TLS 1.3");
            assertThat(connection.sync().get("api:greeting")).isEqualTo("hello over TLS 1.3");

            HealthIndicator indicator = context.getBean("zerotrustRedisHealthIndicator", HealthIndicator.class);
            Health up = indicator.health();
            assertThat(up.getStatus()).isEqualTo(Status.UP);
            assertThat(up.getDetails()).containsEntry("user", "api").containsEntry("tls", "TLSv1.3")
                    .containsEntry("verification", "full").containsEntry("identity", zone.api)
                    .containsOnlyKeys("client", "user", "tls", "verification", "identity");
            assertThat(up.getDetails().toString()).doesNotContain(SECRET, "BEGIN");

            connection.close();
            Health down = indicator.health();
            assertThat(down.getStatus()).isEqualTo(Status.DOWN);
            assertThat(down.getDetails()).containsKey("problem");
        });
    }

    @Test
    void springDataRedisRoundTripsOnTheHardenedClient() {
        runner(Map.of()).withConfiguration(AutoConfigurations.of(DataRedisAutoConfiguration.class)).run(context -> {
            LettuceConnectionFactory factory = context.getBean(LettuceConnectionFactory.class); // Boot's backed off
            StringRedisTemplate template = context.getBean(StringRedisTemplate.class);          // Boot's, on ours
            assertThat(template.getConnectionFactory()).isSameAs(factory);
            template.opsForValue().set("api:spring-data", "through Spring Data Redis");
            assertThat(template.opsForValue().get("api:spring-data")).isEqualTo("through Spring Data Redis");
            try (RedisConnection connection = factory.getConnection()) {
                Object user = connection.execute("ACL", "WHOAMI".getBytes(StandardCharsets.US_ASCII));
                assertThat(new String((byte[]) user, StandardCharsets.US_ASCII)).isEqualTo("api");
            }
        });
    }

    @Test
    void refusesAPlaintextRedisUri() {
        ZeroTrustConfigurationException refusal = refusedStart(Map.of("zerotrust.redis.uri",
                "redis://localhost:" + redis.port()));
        assertThat(refusal.reason()).isEqualTo(ZeroTrustConfigurationException.Reason.PLAINTEXT_CLIENT);
        assertThat(refusal.setting()).isEqualTo("zerotrust.redis.uri");
    }

    @Test
    void refusesAPasswordInTheUri() {
        ZeroTrustConfigurationException refusal = refusedStart(Map.of("zerotrust.redis.uri",
                "rediss://api:" + SECRET + "@localhost:" + redis.port()));
        assertThat(refusal.setting()).isEqualTo("zerotrust.redis.uri");
        assertThat(refusal).hasMessageContaining("PASSWORD_IN_URI").hasMessageNotContaining(SECRET);
    }

    @Test
    void refusesWeakerPeerVerification() {
        ZeroTrustConfigurationException refusal = refusedStart(Map.of("zerotrust.redis.uri",
                redis.uri() + "?verifyPeer=CA"));
        assertThat(refusal.setting()).isEqualTo("zerotrust.redis.uri");
        assertThat(refusal).hasMessageContaining("WEAK_VERIFICATION");
    }

    @Test
    void refusesToStartWithoutAPasswordSource() {
        ZeroTrustConfigurationException refusal = refusedStart(Map.of(), "zerotrust.redis.password-file");
        assertThat(refusal.reason()).isEqualTo(ZeroTrustConfigurationException.Reason.MISSING_SETTING);
        assertThat(refusal.setting()).isEqualTo("zerotrust.redis.password-file");
    }

    @Test
    void refusesToStartWithAWrongPassword() {
        ZeroTrustConfigurationException refusal = refusedStart(Map.of("zerotrust.redis.password-file",
                certs.resolve("wrong-password").toString()));
        assertThat(refusal.reason()).isEqualTo(ZeroTrustConfigurationException.Reason.INSECURE_DATA_STORE);
        assertThat(refusal.setting()).isEqualTo("zerotrust.redis.password-file");
        assertThat(refusal).hasMessageContaining("AUTHENTICATION_FAILED").hasMessageNotContaining("not-the-secret");
    }

    @Test
    void theHealthComponentCanBeSwitchedOff() {
        runner(Map.of("management.health.zerotrust-redis.enabled", "false"))
                .run(context -> assertThat(context).hasNotFailed().hasSingleBean(HardenedRedis.class)
                        .doesNotHaveBean("zerotrustRedisHealthIndicator"));
    }

    @Test
    void configuresNothingWithoutRedisSettings() {
        zone.runner(Map.of()).withConfiguration(AutoConfigurations.of(ZeroTrustRedisAutoConfiguration.class))
                .withBean(AuditLog.class, RecordingAuditLog::new)
                .run(context -> assertThat(context).hasNotFailed().doesNotHaveBean(HardenedRedis.class));
    }
}
