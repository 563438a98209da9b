package io.settler.zerotrust.queue.rabbitmq;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Address;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.DefaultSaslConfig;
import com.rabbitmq.client.PossibleAuthenticationFailureException;
import com.rabbitmq.client.ShutdownSignalException;
import io.settler.zerotrust.audit.AuditLog;
import io.settler.zerotrust.identity.ServiceIdentity;
import io.settler.zerotrust.tls.MtlsContext;
import java.io.EOFException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.SocketException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
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
 *         .host("rabbit-0.internal").port(5671).node("rabbit-1.internal", 5671).node("rabbit-2.internal", 5671)
 *         .virtualHost("jobs").build();
 * try (RabbitMqConnection connection = connections.connect("api")) { ... }
 * }</pre>
 *
 * <p><b>Cluster failover.</b> A connection goes to the first node that takes it, in the order
 * given. A node that is down (refused, reset, timed out) or whose virtual host is restarting (it
 * closes the login with {@code INTERNAL_ERROR} "access to vhost refused", for a moment after another
 * member stopped) is skipped; when every node failed that way the round is tried again, backing off,
 * for at most {@link Builder#reconnectTimeout} (each round audited as {@code rabbitmq.connection_retried}).
 * A refusal that retrying cannot fix (the TLS handshake, the login, the permissions) fails at once.
 *
 * <p><b>No automatic recovery.</b> The RabbitMQ client's recovery would reconnect behind the
 * application's back, re-declare topology and re-register consumers, and its delivery tags restart
 * on the new channel, so a settle of an old delivery would fail or hit another message. With it
 * off, a lost connection is an exception the polling loop or the publisher sees; the next call
 * on the {@link RabbitMqConnection} opens a new connection (a full TLS handshake, verified again,
 * audited as {@code rabbitmq.reconnected}), and the broker requeues what was not acknowledged,
 * counting it in {@code x-delivery-count}. Immutable and thread-safe.
 */
public final class RabbitMqConnections {

    /** The only protocol the context may enable. */
    private static final List<String> TLS13_ONLY = List.of("TLSv1.3");
    /** The key types a client certificate may have, to find the current one in the context's key manager. */
    private static final String[] KEY_TYPES = {"EC", "RSA", "EdDSA", "Ed25519", "Ed448", "RSASSA-PSS"};

    /** The first pause between two rounds over the nodes; doubled each round up to {@link #MAX_PAUSE}. */
    private static final Duration FIRST_PAUSE = Duration.ofMillis(100);
    private static final Duration MAX_PAUSE = Duration.ofSeconds(2);

    private final MtlsContext tls;
    private final List<Address> nodes;
    private final String virtualHost;
    private final Duration timeout;
    private final Duration reconnectTimeout;
    private final AuditLog audit;

    private RabbitMqConnections(Builder builder) {
        this.tls = builder.tls;
        List<Address> all = new ArrayList<>();
        all.add(new Address(Objects.requireNonNull(builder.host, "host"), builder.port));
        all.addAll(builder.nodes);
        this.nodes = List.copyOf(all);
        this.virtualHost = builder.virtualHost;
        this.timeout = builder.timeout;
        this.reconnectTimeout = builder.reconnectTimeout;
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
     * Opens a connection named {@code name} (shown by {@code rabbitmqctl list_connections}) to the
     * first node that takes it; the returned connection opens a new one the same way when it is lost.
     *
     * @throws RabbitMqException {@link RabbitMqException.Reason#INVALID_CONFIGURATION} if the
     *     context's current certificate has no SPIFFE ID; {@link RabbitMqException.Reason#CONNECTION_FAILED}
     *     if a broker refuses the handshake, the login or the virtual host, or no node could be
     *     reached within the reconnect timeout (both audited as {@code rabbitmq.connection_refused})
     */
    public RabbitMqConnection connect(String name) {
        Objects.requireNonNull(name, "name");
        String identity = clientIdentity();
        return new RabbitMqConnection(this, name, identity, open(name, identity));
    }

    /**
     * A new client connection for {@code identity} to the first node that takes it, going round the
     * nodes again, backing off, while each is down or restarting its virtual host, for at most the
     * reconnect timeout.
     */
    Connection open(String name, String identity) {
        long deadline = System.nanoTime() + reconnectTimeout.toNanos();
        Duration pause = FIRST_PAUSE;
        for (int round = 1; ; round++) {
            List<String> failures = new ArrayList<>();
            @Nullable Exception last = null;
            for (Address node : nodes) {
                try {
                    return factory(node, identity).newConnection(name);
                } catch (IOException | TimeoutException e) {
                    if (!isTransient(e)) {
                        Optional<SSLException> handshake = cause(e, SSLException.class);
                        handshake.ifPresent(failure -> tls.recordHandshakeFailure(failure, Optional.empty()));
                        throw refused(identity, RabbitMqException.Reason.CONNECTION_FAILED, "could not connect to "
                                + server(node) + " as " + identity + " (" + describe(e) + "): check that the broker"
                                + " trusts this certificate's CA, has the user " + identity + " with permissions on"
                                + " virtual host '" + virtualHost + "', and that its certificate names the expected"
                                + " server", e);
                    }
                    failures.add(server(node) + ": " + describe(e));
                    last = e;
                }
            }
            String detail = String.join("; ", failures);
            if (System.nanoTime() - deadline > 0) {
                throw refused(identity, RabbitMqException.Reason.CONNECTION_FAILED, "no node of " + server()
                        + " took a connection as " + identity + " within " + reconnectTimeout + " (" + detail
                        + "): check that the brokers are running and reachable", last);
            }
            audit.event(RabbitMqAudit.CONNECTION_RETRIED).field("server", server()).field("identity", identity)
                    .field("round", round).field("detail", detail).record();
            try {
                Thread.sleep(pause.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw refused(identity, RabbitMqException.Reason.CONNECTION_FAILED, "interrupted while waiting to"
                        + " connect to " + server() + " again (" + detail + ")", e);
            }
            pause = pause.multipliedBy(2).compareTo(MAX_PAUSE) > 0 ? MAX_PAUSE : pause.multipliedBy(2);
        }
    }

    /** Records that {@code connection} replaced a lost connection of {@code name}. */
    void recordReconnect(String name, String identity, Connection connection) {
        audit.event(RabbitMqAudit.RECONNECTED).field("server", server(connection.getAddress().getHostAddress(),
                connection.getPort())).field("identity", identity).field("name", name).record();
    }

    private ConnectionFactory factory(Address node, String identity) {
        ConnectionFactory factory = new ConnectionFactory();
        factory.setHost(node.getHost());
        factory.setPort(node.getPort());
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
        return factory;
    }

    /**
     * Whether retrying may fix a failed connection: the node is down, stopping or unreachable, or it
     * closed the login with {@code INTERNAL_ERROR} (its virtual host restarting after another member
     * stopped). Never a refused TLS handshake (unless the socket ended under it), login or permission.
     */
    static boolean isTransient(Throwable e) {
        if (cause(e, PossibleAuthenticationFailureException.class).isPresent()) {
            return false;
        }
        Optional<ShutdownSignalException> signal = cause(e, ShutdownSignalException.class);
        if (signal.isPresent()) {
            return signal.get().getReason() instanceof AMQP.Connection.Close close
                    && close.getReplyCode() == AMQP.INTERNAL_ERROR;
        }
        boolean socketEnded = cause(e, SocketException.class).isPresent() || cause(e, EOFException.class).isPresent()
                || cause(e, InterruptedIOException.class).isPresent();
        if (cause(e, SSLException.class).isPresent()) {
            return socketEnded;
        }
        return socketEnded || cause(e, TimeoutException.class).isPresent();
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

    /** Every node, as audit events and messages name them. */
    private String server() {
        return nodes.stream().map(node -> node.getHost() + ":" + node.getPort())
                .collect(Collectors.joining(",", "amqps://", "/" + virtualHost));
    }

    private String server(Address node) {
        return server(node.getHost(), node.getPort());
    }

    private String server(String host, int port) {
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
        private final List<Address> nodes = new ArrayList<>();
        private Duration timeout = Duration.ofSeconds(10);
        private Duration reconnectTimeout = Duration.ofSeconds(30);
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
            this.port = checkPort(port);
            return this;
        }

        private static int checkPort(int port) {
            if (port < 1 || port > 65_535) {
                throw new IllegalArgumentException("port is 1 to 65535; got " + port);
            }
            return port;
        }

        /**
         * Another node of the same cluster, tried in order after {@link #host}:{@link #port} when
         * those are down or refuse for a moment (add each further node once). Its certificate must
         * pass the same verification (the host name given here, or the expected SPIFFE ID).
         */
        public Builder node(String host, int port) {
            Objects.requireNonNull(host, "host");
            checkPort(port);
            nodes.add(new Address(host, port));
            return this;
        }

        /**
         * How long opening a connection keeps going round the nodes while every one is down or
         * restarting its virtual host (default 30 s); a refusal that retrying cannot fix fails at once.
         */
        public Builder reconnectTimeout(Duration reconnectTimeout) {
            Objects.requireNonNull(reconnectTimeout, "reconnectTimeout");
            if (reconnectTimeout.isNegative()) {
                throw new IllegalArgumentException("reconnectTimeout must not be negative; got " + reconnectTimeout);
            }
            this.reconnectTimeout = reconnectTimeout;
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
