package io.settler.zerotrust.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.settler.zerotrust.pki.CertificateDefect;
import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The shared TLS Redis serves an authenticated TLS 1.3 client with a certificate and refuses everything else. */
@TlsRedis
class LocalRedisTest {

    private static final String WORKER = "kit_worker";
    private static final String WORKER_PASSWORD = "worker-secret-1";

    @BeforeAll
    static void createUser(LocalRedis redis) {
        redis.createUser(WORKER, WORKER_PASSWORD, "~jobs:* +@read +@write -@dangerous +@connection");
    }

    @Test
    void authenticatedClientWithCertificateSetsAndGets(LocalRedis redis) throws IOException {
        try (SSLSocket socket = RedisClients.socket(redis, Optional.of(redis.clientCertificate(WORKER)));
             Resp connection = new Resp(socket)) {
            assertThat(connection.call("AUTH", WORKER, WORKER_PASSWORD)).isEqualTo("OK");
            assertThat(connection.call("SET", "jobs:1", "payload")).isEqualTo("OK");
            assertThat(connection.call("GET", "jobs:1")).isEqualTo("payload");
            assertThat(socket.getSession().getProtocol()).isEqualTo("TLSv1.3");
        }
    }

    @Test
    void confinesUserToItsKeys(LocalRedis redis) throws IOException {
        try (Resp connection = RedisClients.authenticated(redis, WORKER)) {
            assertThat(connection.call("SET", "billing:1", "x"))
                    .isInstanceOfSatisfying(Resp.Error.class, e -> assertThat(e.message()).startsWith("NOPERM"));
            assertThat(connection.call("FLUSHALL"))
                    .isInstanceOfSatisfying(Resp.Error.class, e -> assertThat(e.message()).startsWith("NOPERM"));
        }
    }

    @Test
    void refusesCommandsBeforeAuthentication(LocalRedis redis) throws IOException {
        try (Resp connection = new Resp(RedisClients.socket(redis, Optional.of(redis.clientCertificate(WORKER))))) {
            assertThat(connection.call("GET", "jobs:1"))
                    .isInstanceOfSatisfying(Resp.Error.class, e -> assertThat(e.message()).startsWith("NOAUTH"));
        }
    }

    @Test
    void refusesWrongPassword(LocalRedis redis) throws IOException {
        try (Resp connection = new Resp(RedisClients.socket(redis, Optional.of(redis.clientCertificate(WORKER))))) {
            assertThat(connection.call("AUTH", WORKER, "guess"))
                    .isInstanceOfSatisfying(Resp.Error.class, e -> assertThat(e.message()).startsWith("WRONGPASS"));
        }
    }

    @Test
    void refusesDefaultUser(LocalRedis redis) throws IOException {
        try (Resp connection = new Resp(RedisClients.socket(redis, Optional.of(redis.clientCertificate(WORKER))))) {
            assertThat(connection.call("AUTH", "default", ""))
                    .isInstanceOfSatisfying(Resp.Error.class, e -> assertThat(e.message()).startsWith("WRONGPASS"));
            assertThat(connection.call("AUTH", "anything"))
                    .isInstanceOfSatisfying(Resp.Error.class, e -> assertThat(e.message()).startsWith("WRONGPASS"));
        }
    }

    @Test
    void refusesPlaintextConnection(LocalRedis redis) throws IOException {
        assertThat(redis.executeAsAdmin("CONFIG", "GET", "port")).isEqualTo("port\n0");

        try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), redis.tlsPort())) {
            socket.setSoTimeout((int) RedisClients.TIMEOUT.toMillis());
            socket.getOutputStream().write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
            socket.getOutputStream().flush();
            assertThat(RedisClients.readUntilClosed(socket.getInputStream())).doesNotContain("PONG");
        }
    }

    @Test
    void refusesTls12Client(LocalRedis redis) throws IOException {
        try (SSLSocket socket = RedisClients.socket(redis, Optional.of(redis.clientCertificate(WORKER)), "TLSv1.2")) {
            assertThatThrownBy(socket::startHandshake)
                    .isInstanceOf(SSLHandshakeException.class)
                    .hasMessageContaining("protocol_version");
        }
    }

    @Test
    void refusesClientWithoutCertificate(LocalRedis redis) throws IOException {
        try (SSLSocket socket = RedisClients.socket(redis, Optional.empty())) {
            assertRefused(socket, "certificate_required");
        }
    }

    @Test
    void refusesCertificateFromUnknownCa(LocalRedis redis) throws IOException {
        var impostor = redis.certificateAuthority().leaf(WORKER).client().defect(CertificateDefect.UNKNOWN_CA).issue();
        try (SSLSocket socket = RedisClients.socket(redis, Optional.of(impostor))) {
            assertRefused(socket, "unknown_ca");
        }
    }

    @Test
    void refusesExpiredClientCertificate(LocalRedis redis) throws IOException {
        var expired = redis.certificateAuthority().leaf(WORKER).client().defect(CertificateDefect.EXPIRED).issue();
        try (SSLSocket socket = RedisClients.socket(redis, Optional.of(expired))) {
            assertRefused(socket, "certificate_expired");
        }
    }

    @Test
    void looksUpUsersAndPasswords(LocalRedis redis) {
        assertThat(redis.users()).contains(WORKER).doesNotContain(LocalRedis.ADMIN_USER);
        assertThat(redis.password(WORKER)).isEqualTo(WORKER_PASSWORD);
        assertThat(redis.uri()).isEqualTo("rediss://localhost:" + redis.tlsPort());
        assertThatThrownBy(() -> redis.password("nobody")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> redis.createUser(LocalRedis.ADMIN_USER, "x", "+@all"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("reserved");
    }

    /**
     * Reads the server's verdict on our certificate: with TLS 1.3 a client learns of the refusal
     * only by reading. Nothing is written first. The client reads the server's alert, unless the
     * JDK answers it with a write of its own into the closed connection first (JDK 25 does, at
     * times): then the connection has been torn down and the alert is lost to a "Broken pipe".
     * Either way the server ended the connection right after the handshake, before any command.
     */
    private static void assertRefused(SSLSocket socket, String alert) throws IOException {
        socket.setSoTimeout(10_000);
        Throwable refusal = catchThrowable(() -> {
            int read = socket.getInputStream().read();
            throw new AssertionError("the server accepted the certificate (read " + read + ")");
        });
        assertThat(refusal).isInstanceOfAny(SSLException.class, java.net.SocketException.class);
        if (refusal instanceof SSLException) {
            assertThat(refusal).hasMessageContaining(alert);
        }
    }

    /** Reads until the server closes the connection (a reset counts as closed) and returns what came. */
}
