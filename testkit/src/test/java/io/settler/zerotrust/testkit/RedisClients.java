package io.settler.zerotrust.testkit;

import io.settler.zerotrust.pki.IssuedCertificate;
import java.io.IOException;
import java.io.InputStream;
import java.net.SocketException;
import java.time.Duration;
import java.util.Optional;
import javax.net.ssl.SSLSocket;

/** Plain JDK TLS clients for the testkit's Redis tests. */
final class RedisClients {

    static final Duration TIMEOUT = Duration.ofSeconds(10);

    private RedisClients() {
    }

    /** A TLS 1.3 socket presenting {@code certificate} (if any), not yet handshaken. */
    static SSLSocket socket(LocalRedis redis, Optional<IssuedCertificate> certificate, String... protocols)
            throws IOException {
        return ClientTls.connect(ClientTls.context(certificate, redis.certificateAuthority().rootCertificate()),
                redis.host(), redis.tlsPort(), TIMEOUT, protocols);
    }

    /** A RESP connection over TLS 1.3 with a client certificate, authenticated as {@code user}. */
    static Resp authenticated(LocalRedis redis, String user) throws IOException {
        return authenticated(redis, user, redis.password(user));
    }

    static Resp authenticated(LocalRedis redis, String user, String password) throws IOException {
        Resp connection = new Resp(socket(redis, Optional.of(redis.clientCertificate(user))));
        Object reply = connection.call("AUTH", user, password);
        if (!"OK".equals(reply)) {
            connection.close();
            throw new IllegalStateException("AUTH as " + user + " failed: " + reply);
        }
        return connection;
    }

    /** Everything the peer sends until it closes (or resets) the connection. */
    static String readUntilClosed(InputStream in) throws IOException {
        StringBuilder received = new StringBuilder();
        try {
            int next;
            while ((next = in.read()) >= 0) {
                received.append((char) next);
            }
        } catch (SocketException reset) {
            // "Connection reset": closed as well.
        }
        return received.toString();
    }
}
