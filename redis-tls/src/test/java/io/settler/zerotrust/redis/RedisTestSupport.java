package io.settler.zerotrust.redis;

import io.settler.zerotrust.credentials.CredentialSource;
import io.settler.zerotrust.credentials.TlsIdentity;
import io.settler.zerotrust.credentials.TrustBundle;
import io.settler.zerotrust.pki.IssuedCertificate;
import io.settler.zerotrust.testkit.LocalRedis;
import io.settler.zerotrust.testkit.LocalRedisCluster;
import io.settler.zerotrust.testkit.RecordingAuditLog;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.BooleanSupplier;

/** Clients of the shared test Redis. */
final class RedisTestSupport {

    /** Every command the hardened client's own proof and the tests need. */
    static final String RULES = "+@read +@write +@connection +acl|whoami +client|info";

    private RedisTestSupport() {
    }

    /** A fixed credential source with {@code certificate}, trusting the Redis CA. */
    static CredentialSource credentials(LocalRedis redis, IssuedCertificate certificate) {
        return CredentialSource.fixed(TlsIdentity.of(certificate.privateKey(), certificate.chain()),
                TrustBundle.of(List.of(redis.certificateAuthority().rootCertificate())));
    }

    /** Polls {@code condition} every 50 ms; fails naming {@code what} if it is not true within {@code timeout}. */
    static void await(Duration timeout, String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within " + timeout + ": " + what);
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted while waiting for " + what, e);
            }
        }
    }

    /** Writes {@code password} to a fresh owner-only file. */
    static Path passwordFile(Path directory, String password) throws IOException {
        Path file = directory.resolve("redis-password");
        Files.writeString(file, password + "\n");
        return file;
    }

    /** A builder for {@code user} on the shared server, everything else correct. */
    static HardenedRedis.Builder builder(LocalRedis redis, String user, Path passwordFile, RecordingAuditLog audit) {
        return HardenedRedis.builder()
                .host(redis.host())
                .port(redis.tlsPort())
                .user(user)
                .password(PasswordSource.fromFile(passwordFile))
                .credentials(credentials(redis, redis.clientCertificate(user)))
                .ioThreads(1)
                .auditLog(audit);
    }

    /**
     * A cluster client builder for {@code user}, seeded with node 0: its client certificate from
     * the services' CA, trusting the node CA and expecting the nodes' SPIFFE ID.
     */
    static HardenedRedis.Builder clusterBuilder(LocalRedisCluster cluster, String user, Path passwordFile,
            RecordingAuditLog audit) {
        return builder(cluster.nodes().get(0), user, passwordFile, audit)
                .credentials(clusterCredentials(cluster, user))
                .expectedServer(cluster.nodeIdentity());
    }

    /** {@code user}'s client certificate (services' CA), trusting the cluster's node CA. */
    static CredentialSource clusterCredentials(LocalRedisCluster cluster, String user) {
        IssuedCertificate certificate = cluster.clientCertificate(user);
        return CredentialSource.fixed(TlsIdentity.of(certificate.privateKey(), certificate.chain()),
                TrustBundle.of(List.of(cluster.nodeCertificateAuthority().rootCertificate())));
    }
}
