package io.settler.zerotrust.redis;

import static org.assertj.core.api.Assertions.assertThat;

import io.lettuce.core.api.StatefulRedisConnection;
import io.settler.zerotrust.credentials.FileCredentialSource;
import io.settler.zerotrust.pki.PemFiles;
import io.settler.zerotrust.testkit.LocalRedis;
import io.settler.zerotrust.testkit.TlsRedis;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The README's quick start, line for line (paths and values as parameters), against the real TLS Redis. */
@TlsRedis
class QuickStartTest {

    @TempDir
    Path dir;

    @Test
    void readmeQuickStartRuns(LocalRedis redis) throws Exception {
        redis.createUser("api", "quick-start-secret", "~api:* +set +@connection +acl|whoami +client|info");
        PemFiles tls = redis.clientCertificate("api").writePem(dir, "tls");
        Path passwordFile = Files.writeString(dir.resolve("redis-password"), "quick-start-secret\n");
        assertThat(quickStart(redis.uri(), tls, passwordFile, "s-1", "spiffe://example.org/gateway", "jti-1",
                Instant.now().plus(Duration.ofMinutes(5)))).isTrue();
    }

    private static boolean quickStart(String uri, PemFiles tls, Path passwordFile, String sessionId, String issuer,
                                      String jti, Instant expiresAt) throws Exception {
        FileCredentialSource credentials = FileCredentialSource.builder(
                tls.chain(), tls.privateKey(), tls.caBundle()).start();

        try (credentials;
             HardenedRedis redis = HardenedRedis.builder()
                .uri(uri)
                .user("api")
                .password(PasswordSource.fromFile(passwordFile))
                .credentials(credentials)
                .build();
             StatefulRedisConnection<String, String> connection = redis.connect()) {
            KeyNamespace keys = KeyNamespace.of("api");
            connection.sync().set(keys.key("session", sessionId), "...");

            RedisReplayGuard replay = RedisReplayGuard.builder(connection.sync(), keys).build();
            return replay.firstUse(issuer, jti, expiresAt);
        }
    }
}
