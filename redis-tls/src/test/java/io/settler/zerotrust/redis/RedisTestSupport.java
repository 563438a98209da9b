package io.settler.zerotrust.redis;

import io.settler.zerotrust.audit.AuditEvent;
import io.settler.zerotrust.audit.AuditLog;
import io.settler.zerotrust.credentials.CredentialSource;
import io.settler.zerotrust.credentials.TlsIdentity;
import io.settler.zerotrust.credentials.TrustBundle;
import io.settler.zerotrust.pki.IssuedCertificate;
import io.settler.zerotrust.testkit.LocalRedis;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** Clients of the shared test Redis, and an audit log the tests can read. */
final class RedisTestSupport {

    /** Every command the hardened client's own proof and the tests need. */
    static final String RULES = "+@read +@write +@connection +acl|whoami +client|info";

    private RedisTestSupport() {
    }

    /** Audit events, kept in memory and also logged. */
    static final class Audit implements AuditLog {
        final List<AuditEvent> events = new CopyOnWriteArrayList<>();
        private final AuditLog log = AuditLog.slf4j();

        @Override
        public void record(AuditEvent event) {
            log.record(event);
            events.add(event);
        }

        List<AuditEvent> named(String action) {
            return events.stream().filter(e -> e.action().equals(action)).toList();
        }
    }

    /** A fixed credential source with {@code certificate}, trusting the Redis CA. */
    static CredentialSource credentials(LocalRedis redis, IssuedCertificate certificate) {
        return CredentialSource.fixed(TlsIdentity.of(certificate.privateKey(), certificate.chain()),
                TrustBundle.of(List.of(redis.certificateAuthority().rootCertificate())));
    }

    /** Writes {@code password} to a fresh owner-only file. */
    static Path passwordFile(Path directory, String password) throws IOException {
        Path file = directory.resolve("redis-password");
        Files.writeString(file, password + "\n");
        return file;
    }

    /** A builder for {@code user} on the shared server, everything else correct. */
    static HardenedRedis.Builder builder(LocalRedis redis, String user, Path passwordFile, Audit audit) {
        return HardenedRedis.builder()
                .host(redis.host())
                .port(redis.tlsPort())
                .user(user)
                .password(PasswordSource.fromFile(passwordFile))
                .credentials(credentials(redis, redis.clientCertificate(user)))
                .ioThreads(1)
                .auditLog(audit);
    }
}
