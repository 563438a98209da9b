package io.settler.zerotrust.benchmarks.redis;

import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.settler.zerotrust.credentials.CredentialSource;
import io.settler.zerotrust.credentials.TlsIdentity;
import io.settler.zerotrust.credentials.TrustBundle;
import io.settler.zerotrust.pki.DevCertificateAuthority;
import io.settler.zerotrust.pki.IssuedCertificate;
import io.settler.zerotrust.redis.HardenedRedis;
import io.settler.zerotrust.redis.PasswordSource;
import io.settler.zerotrust.testkit.LocalRedis;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A testkit TLS Redis with one ACL user, and one hardened connection of that user: for the Redis
 * client benchmark, the queue's streams (Redis transport), or only the queue's replay guard and
 * records of handled messages (any transport).
 */
public final class BenchmarkRedis implements AutoCloseable {

    private static final String USER = "bench";
    private static final String PASSWORD = "bench-queue-password-7f1e";

    private final LocalRedis redis;
    private final IssuedCertificate client;
    private final Path passwordFile;
    private final HardenedRedis hardened;
    private final StatefulRedisConnection<String, String> connection;

    /**
     * Starts Redis with the user {@value #USER} allowed {@code rules} (plus what a hardened connection
     * needs to prove itself) and connects as it.
     */
    public BenchmarkRedis(DevCertificateAuthority ca, String rules) throws IOException {
        redis = LocalRedis.builder(ca).user(USER, PASSWORD, rules + " +@connection +acl|whoami +client|info").start();
        client = redis.clientCertificate(USER);
        passwordFile = Files.createTempFile("bench-queue", ".password");
        Files.writeString(passwordFile, PASSWORD);
        hardened = HardenedRedis.builder().host(redis.host()).port(redis.tlsPort()).user(USER)
                .password(PasswordSource.fromFile(passwordFile))
                .credentials(CredentialSource.fixed(TlsIdentity.of(client.privateKey(), client.chain()),
                        TrustBundle.of(List.of(ca.rootCertificate()))))
                .auditLog(event -> { })
                .build();
        connection = hardened.connect();
    }

    /** The connection: a replay guard built on it pipelines a batch's checks and records. */
    public StatefulRedisConnection<String, String> connection() {
        return connection;
    }

    /** The connection's synchronous commands. */
    public RedisCommands<String, String> commands() {
        return connection.sync();
    }

    /** The server, for a baseline client of its own. */
    public LocalRedis server() {
        return redis;
    }

    /** The user's client certificate, issued by the CA given. */
    public IssuedCertificate clientCertificate() {
        return client;
    }

    /** The ACL user's name. */
    public String user() {
        return USER;
    }

    /** The ACL user's password (a fixed benchmark secret), for a baseline client of its own. */
    public char[] password() {
        return PASSWORD.toCharArray();
    }

    /** Closes the connection and stops Redis. */
    @Override
    public void close() throws IOException {
        connection.close();
        hardened.close();
        redis.close();
        Files.deleteIfExists(passwordFile);
    }
}
