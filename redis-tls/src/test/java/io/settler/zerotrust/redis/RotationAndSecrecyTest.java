package io.settler.zerotrust.redis;

import static org.assertj.core.api.Assertions.assertThat;

import io.lettuce.core.api.StatefulRedisConnection;
import io.settler.zerotrust.audit.AuditEvent;
import io.settler.zerotrust.credentials.CertificateFingerprint;
import io.settler.zerotrust.credentials.FileCredentialSource;
import io.settler.zerotrust.pki.IssuedCertificate;
import io.settler.zerotrust.pki.PemFiles;
import io.settler.zerotrust.testkit.LocalRedis;
import io.settler.zerotrust.testkit.RecordingAuditLog;
import io.settler.zerotrust.testkit.TlsRedis;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Rotation of the certificate and the password reaches reconnects; the password never reaches a log. */
@TlsRedis
class RotationAndSecrecyTest {

    private static final String USER = "rt_rotating";

    @TempDir
    Path dir;

    @Test
    void reconnectAfterRotationPresentsTheNewCertificateAndPassword(LocalRedis redis) throws Exception {
        String oldPassword = "rotating-old-5d1e";
        String newPassword = "rotating-new-9b2c";
        redis.createUser(USER, oldPassword, "~rt:* " + RedisTestSupport.RULES);
        IssuedCertificate first = redis.certificateAuthority().leaf(USER).client().issue();
        PemFiles files = first.writePem(dir, USER);
        Path passwordFile = RedisTestSupport.passwordFile(dir, oldPassword);
        RecordingAuditLog audit = RecordingAuditLog.logging();

        try (FileCredentialSource credentials = FileCredentialSource.builder(files.chain(), files.privateKey(),
                files.caBundle()).auditLog(audit).start();
             HardenedRedis client = RedisTestSupport.builder(redis, USER, passwordFile, audit)
                     .credentials(credentials).build();
             StatefulRedisConnection<String, String> connection = client.connect()) {
            assertThat(connection.sync().set("rt:rotation", "before")).isEqualTo("OK");

            IssuedCertificate second = redis.certificateAuthority().leaf(USER).client().issue();
            second.writePem(dir, USER);
            assertThat(credentials.reload()).isTrue();
            redis.createUser(USER, newPassword, "~rt:* " + RedisTestSupport.RULES); // the old password stops working
            Files.writeString(passwordFile, newPassword + "\n");
            redis.executeAsAdmin("CLIENT", "KILL", "USER", USER);

            awaitReconnected(connection);
            assertThat(connection.sync().get("rt:rotation")).isEqualTo("before");
            assertThat(connection.sync().aclWhoami()).isEqualTo(USER);

            List<String> presented = audit.withAction("redis.tls.handshake").stream()
                    .map(event -> event.fields().get("client_fingerprint")).toList();
            assertThat(presented).containsExactly(CertificateFingerprint.sha256(first.certificate()),
                    CertificateFingerprint.sha256(second.certificate()));
        }
    }

    @Test
    void passwordNeverAppearsInLogsToStringOrAudit(LocalRedis redis) throws Exception {
        String user = "rt_secrecy";
        String password = "secrecy-Zq81-unique-marker";
        redis.createUser(user, password, "~rt:* " + RedisTestSupport.RULES);
        Path passwordFile = RedisTestSupport.passwordFile(dir, password);
        RecordingAuditLog audit = RecordingAuditLog.logging();
        HardenedRedis.Builder builder = RedisTestSupport.builder(redis, user, passwordFile, audit);
        try (HardenedRedis client = builder.build();
             StatefulRedisConnection<String, String> connection = client.connect()) {
            connection.sync().set("rt:secrecy", "x");
            redis.executeAsAdmin("CLIENT", "KILL", "USER", user); // a reconnect logs in again
            awaitReconnected(connection);
            assertThat(List.of(client.toString(), connection.toString(), client.client().toString(),
                    PasswordSource.fromFile(passwordFile).toString(),
                    PasswordSource.fromFile(passwordFile).credentialsFor(user).toString(),
                    PasswordSource.fromFile(passwordFile).credentialsFor(user).resolveCredentials().block().toString()))
                    .allSatisfy(text -> assertThat(text).doesNotContain(password));
        }
        assertThat(audit.events()).extracting(AuditEvent::toString).allSatisfy(text -> assertThat(text)
                .doesNotContain(password));
        Path log = Path.of("target/test-logs/all.log");
        assertThat(Files.readString(log)).contains("type=HELLO").doesNotContain(password);
    }

    /** Sends PINGs until the auto-reconnect has come back (bounded: at most 20 seconds). */
    static void awaitReconnected(StatefulRedisConnection<String, String> connection) throws InterruptedException {
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (true) {
            try {
                if ("PONG".equals(connection.sync().ping())) {
                    return;
                }
            } catch (RuntimeException disconnected) {
                if (System.nanoTime() > deadline) {
                    throw disconnected;
                }
            }
            Thread.sleep(50);
        }
    }
}
