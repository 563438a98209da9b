package io.settler.zerotrust.queue.rabbitmq;

import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.DefaultSaslConfig;
import io.settler.zerotrust.audit.AuditLog;
import io.settler.zerotrust.identity.ServiceIdentity;
import io.settler.zerotrust.tls.MtlsContext;
import java.io.IOException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeoutException;
import javax.net.ssl.SSLException;
import org.jspecify.annotations.Nullable;

/**
 * Opens connections to RabbitMQ the only way this library allows: AMQP 0-9-1 over TLS 1.3 with a
 * client {@link MtlsContext}, which presents the service's certificate and verifies the broker's
 * (its host name, or the SPIFFE ID given to {@link MtlsContext.Builder#expectedServer}), and login
 * by SASL EXTERNAL only: the broker takes the user name from the certificate's SPIFFE URI SAN. No
 * password is ever sent, PLAIN is never offered, so {@code guest} cannot log in.
 *
 * <pre>{@code
 * MtlsContext tls = MtlsContext.client(credentials).expectedServer("spiffe://example.org/rabbitmq").build();
 * RabbitMqConnections connections = RabbitMqConnections.builder(tls)
 *         .host("rabbitmq.internal").port(5671).virtualHost("jobs").build();
 * try (RabbitMqConnection connection = connections.connect("api")) { ... }
 * }</pre>
 *
 * <p><b>No automatic recovery.</b> The RabbitMQ client's recovery would reconnect behind the
 * application's back, re-declare topology and re-register consumers, and its delivery tags restart
 * on the new channel, so a settle of an old delivery would fail or hit another message. With it
 * off, a lost connection is an exception the polling loop sees: it opens a new connection (a full
 * TLS handshake, verified and audited again), and the broker requeues what was not acknowledged,
 * counting it in {@code x-delivery-count}. Immutable and thread-safe.
 */
public final class RabbitMqConnections {

    /** The only protocol the context may enable. */
    private static final List<String> TLS13_ONLY = List.of("TLSv1.3");
    /** The key types a client certificate may have, to find the current one in the context's key manager. */
    private static final String[] KEY_TYPES = {"EC", "RSA", "EdDSA", "Ed25519", "Ed448", "RSASSA-PSS"};

    private final MtlsContext tls;
    private final String host;
    private final int port;
    private final String virtualHost;
    private final Duration timeout;
    private final AuditLog audit;

    private RabbitMqConnections(Builder builder) {
        this.tls = builder.tls;
        this.host = Objects.requireNonNull(builder.host, "host");
        this.port = builder.port;
        this.virtualHost = builder.virtualHost;
        this.timeout = builder.timeout;
        this.audit = builder.audit;
    }

    /**
     * Starts the settings of connections made with {@code tls}, a client context that allows TLS 1.3
     * only (not {@link MtlsContext.Builder#allowTls12()}).
     */
    public static Builder builder(MtlsContext tls) {
        return new Builder(tls);
    }

    /**
     * Opens a connection named {@code name} (shown by {@code rabbitmqctl list_connections}).
     *
     * @throws RabbitMqException {@link RabbitMqException.Reason#INVALID_CONFIGURATION} if the
     *     context's current certificate has no SPIFFE ID; {@link RabbitMqException.Reason#CONNECTION_FAILED}
     *     if the broker cannot be reached or refuses the handshake, the login or the virtual host
     *     (both audited as {@code rabbitmq.connection_refused})
     */
    public RabbitMqConnection connect(String name) {
        Objects.requireNonNull(name, "name");
        String identity = clientIdentity();
        ConnectionFactory factory = new ConnectionFactory();
        factory.setHost(host);
        factory.setPort(port);
        factory.setVirtualHost(virtualHost);
        // The context verifies the broker itself (host name or expected SPIFFE ID), so no second host check.
        factory.useSslProtocol(tls.sslContext());
        factory.setSaslConfig(DefaultSaslConfig.EXTERNAL);
        factory.setUsername(identity); // informational: EXTERNAL sends no user name and no password
        factory.setPassword("");
        factory.setAutomaticRecoveryEnabled(false);
        factory.setTopologyRecoveryEnabled(false);
        int millis = (int) Math.min(Integer.MAX_VALUE, timeout.toMillis());
        factory.setConnectionTimeout(millis);
        factory.setHandshakeTimeout(millis);
        factory.setChannelRpcTimeout(millis);
        try {
            return new RabbitMqConnection(factory.newConnection(name), identity);
        } catch (IOException | TimeoutException e) {
            Optional<SSLException> handshake = cause(e, SSLException.class);
            handshake.ifPresent(failure -> tls.recordHandshakeFailure(failure, Optional.empty()));
            throw refused(identity, RabbitMqException.Reason.CONNECTION_FAILED, "could not connect to " + server()
                    + " as " + identity + " (" + describe(e) + "): check that the broker is reachable, trusts this"
                    + " certificate's CA, has the user " + identity + " with permissions on virtual host '"
                    + virtualHost + "', and that its certificate names the expected server", e);
        }
    }

    /** The SPIFFE ID of the client certificate the context presents now: the broker's user name for it. */
    String clientIdentity() {
        String alias = tls.keyManager().chooseClientAlias(KEY_TYPES, null, null);
        X509Certificate @Nullable [] chain = alias == null ? null : tls.keyManager().getCertificateChain(alias);
        Optional<ServiceIdentity> identity = chain == null || chain.length == 0 ? Optional.empty()
                : ServiceIdentity.fromCertificate(chain[0]);
        if (identity.isEmpty()) {
            throw refused("none", RabbitMqException.Reason.INVALID_CONFIGURATION, "the context's client certificate"
                    + " has no SPIFFE ID (URI SAN); the broker logs a client in by it: issue the certificate with"
                    + " spiffe://<trust-domain>/<service>", null);
        }
        return identity.get().toString();
    }

    private String server() {
        return "amqps://" + host + ":" + port + "/" + virtualHost;
    }

    private RabbitMqException refused(String identity, RabbitMqException.Reason reason, String message,
            @Nullable Throwable cause) {
        return refused(audit, server(), identity, new RabbitMqException(reason, message, cause));
    }

    static RabbitMqException refused(AuditLog audit, String server, String identity, RabbitMqException e) {
        return audit.event(RabbitMqAudit.CONNECTION_REFUSED).field("server", server).field("identity", identity)
                .refused(e);
    }

    /** The innermost messages of a failure, for a refusal's message (never secrets: the client has none). */
    static String describe(Throwable e) {
        StringBuilder text = new StringBuilder();
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (text.length() > 0) {
                text.append(": ");
            }
            text.append(t.getClass().getSimpleName());
            if (t.getMessage() != null) {
                text.append(' ').append(t.getMessage());
            }
        }
        return text.toString();
    }

    private static <T extends Throwable> Optional<T> cause(Throwable e, Class<T> type) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (type.isInstance(t)) {
                return Optional.of(type.cast(t));
            }
        }
        return Optional.empty();
    }

    @Override
    public String toString() {
        return "RabbitMqConnections[" + server() + "]";
    }

    /** Settings of {@link RabbitMqConnections}. */
    public static final class Builder {
        private final MtlsContext tls;
        private @Nullable String host;
        private int port = 5671;
        private String virtualHost = "/";
        private Duration timeout = Duration.ofSeconds(10);
        private AuditLog audit = AuditLog.slf4j();

        private Builder(MtlsContext tls) {
            this.tls = Objects.requireNonNull(tls, "tls");
        }

        /** Required: the broker's host name (what its certificate names, unless the context expects a SPIFFE ID). */
        public Builder host(String host) {
            this.host = Objects.requireNonNull(host, "host");
            return this;
        }

        /** The broker's TLS port (default 5671, AMQPS). */
        public Builder port(int port) {
            if (port < 1 || port > 65_535) {
                throw new IllegalArgumentException("port is 1 to 65535; got " + port);
            }
            this.port = port;
            return this;
        }

        /** The virtual host (default {@code /}). */
        public Builder virtualHost(String virtualHost) {
            this.virtualHost = Objects.requireNonNull(virtualHost, "virtualHost");
            return this;
        }

        /** The connect, TLS and AMQP handshake and channel-operation timeout (default 10 s). */
        public Builder timeout(Duration timeout) {
            Objects.requireNonNull(timeout, "timeout");
            if (timeout.isNegative() || timeout.isZero()) {
                throw new IllegalArgumentException("timeout must be positive; got " + timeout);
            }
            this.timeout = timeout;
            return this;
        }

        /** Where refused settings and connections ({@code rabbitmq.connection_refused}) go (default SLF4J). */
        public Builder auditLog(AuditLog audit) {
            this.audit = Objects.requireNonNull(audit, "audit");
            return this;
        }

        /**
         * The factory.
         *
         * @throws RabbitMqException {@link RabbitMqException.Reason#INVALID_CONFIGURATION} (audited) if
         *     no host is set, or the context is a server's or allows anything but TLS 1.3
         */
        public RabbitMqConnections build() {
            String server = "amqps://" + host + ":" + port + "/" + virtualHost;
            if (host == null || host.isBlank()) {
                throw refused(audit, server, "none", invalid("set host(...): the broker's host name"));
            }
            if (tls.role() != MtlsContext.Role.CLIENT) {
                throw refused(audit, server, "none", invalid("the MtlsContext is a server's; build one with"
                        + " MtlsContext.client(credentials)"));
            }
            List<String> protocols = Arrays.asList(tls.sslParameters().getProtocols());
            if (!protocols.equals(TLS13_ONLY)) {
                throw refused(audit, server, "none", invalid("the MtlsContext enables " + protocols + "; RabbitMQ"
                        + " connections use TLS 1.3 only: build the context without allowTls12()"));
            }
            return new RabbitMqConnections(this);
        }

        private static RabbitMqException invalid(String message) {
            return new RabbitMqException(RabbitMqException.Reason.INVALID_CONFIGURATION, message, null);
        }
    }
}
