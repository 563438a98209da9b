package io.settler.zerotrust.redis;

import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.RedisURI;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.SslOptions;
import io.lettuce.core.SslVerifyMode;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.codec.RedisCodec;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.DefaultClientResources;
import io.settler.zerotrust.audit.AuditEvent;
import io.settler.zerotrust.audit.AuditLog;
import io.settler.zerotrust.audit.LogSafe;
import io.settler.zerotrust.credentials.CredentialSource;
import io.settler.zerotrust.network.ConnectFailures;
import io.settler.zerotrust.time.Durations;
import io.settler.zerotrust.tls.MtlsContext;
import io.settler.zerotrust.trust.PeerVerificationException;
import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import org.jspecify.annotations.Nullable;

/**
 * A Lettuce client that cannot be configured insecurely: TLS 1.3 with the server's certificate
 * verified (chain and name, by core's trust manager), a client certificate from a rotating
 * {@link CredentialSource}, and an ACL user whose password is read from a {@link PasswordSource}
 * on every (re)connect.
 *
 * <pre>{@code
 * HardenedRedis redis = HardenedRedis.builder()
 *         .uri("rediss://cache.internal:6380")            // or .host(...).port(...)
 *         .user("api")
 *         .password(PasswordSource.fromFile(Path.of("/run/secrets/redis-password")))
 *         .credentials(credentials)                        // core: what we present and trust
 *         .build();
 * StatefulRedisConnection<String, String> connection = redis.connect(); // TLS 1.3 and user proven
 * }</pre>
 *
 * <p>Refused when built (a {@link RedisTlsException} and a {@code redis.refused} audit event): a
 * {@code redis://} or socket URI, verify modes other than FULL, STARTTLS, a password in the URI,
 * no password source. Each handshake, reconnects included, is checked for the TLS version and
 * audited ({@code redis.tls.handshake}) with both certificates' fingerprints. {@link #connect()}
 * then proves the connection: its channel negotiated an allowed TLS version and
 * {@code ACL WHOAMI} is the configured user; otherwise it closes the connection and throws. The
 * user therefore needs {@code +acl|whoami +client|info} (what {@link RedisAcl} renders). A refused
 * handshake, on connect or reconnect, is also recorded as {@code redis.tls.refused}.
 *
 * <p>Client defaults: commands are rejected while disconnected, the request queue is bounded,
 * and every wait is bounded: a command returns within {@code commandTimeout} (5 s), failing with
 * Lettuce's {@code RedisCommandTimeoutException} if the server does not answer; {@link #connect()}
 * within {@code connectTimeout} for the TCP connect plus {@code connectTimeout} for the TLS handshake
 * plus {@code commandTimeout} for each of its three round trips (AUTH/HELLO, {@code ACL WHOAMI},
 * {@code CLIENT INFO}), failing with a {@link RedisTlsException}. Immutable and thread-safe;
 * {@link #close()} shuts the client and its threads down.
 */
public final class HardenedRedis implements AutoCloseable {

    static final String TLS13 = "TLSv1.3";
    static final String TLS12 = "TLSv1.2";

    private final String host;
    private final int port;
    private final String user;
    private final Duration commandTimeout;
    private final Duration connectTimeout;
    private final Set<String> allowedProtocols;
    private final AuditLog audit;
    private final Clock clock;
    private final TlsHandshakeGuard guard;
    private final ClientResources resources;
    private final RedisClient client;

    private HardenedRedis(Builder builder, MtlsContext tls) {
        this.host = builder.checkedHost();
        this.port = builder.port;
        this.user = builder.checkedUser();
        this.commandTimeout = builder.commandTimeout;
        this.connectTimeout = builder.connectTimeout;
        this.audit = builder.audit;
        this.clock = builder.clock;
        this.allowedProtocols = builder.allowedProtocols();
        this.guard = new TlsHandshakeGuard(allowedProtocols, tls, audit, clock);
        this.resources = builder.resources(guard);
        this.client = RedisClient.create(resources, builder.redisUri());
        client.setOptions(builder.applyClientOptions(ClientOptions.builder(), tls).build());
        builder.recordPosture(tls, "redis.client.posture");
    }

    /** Starts a builder. */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Connects with string keys and values, and proves the connection (see the class description).
     *
     * @throws RedisTlsException if the handshake, the login or the proof fails
     */
    public StatefulRedisConnection<String, String> connect() {
        return connect(StringCodec.UTF8);
    }

    /**
     * Connects with a codec of your choice, and proves the connection.
     *
     * @throws RedisTlsException if the handshake, the login or the proof fails
     */
    public <K, V> StatefulRedisConnection<K, V> connect(RedisCodec<K, V> codec) {
        Objects.requireNonNull(codec, "codec");
        if (!(codec instanceof StringCodec)) {
            throw refuse(RedisTlsException.Reason.INVALID_CONFIGURATION, "connect(codec) proves the connection with "
                    + "text commands and needs a StringCodec; use client() for other codecs (not proven)", null);
        }
        StatefulRedisConnection<K, V> connection;
        try {
            connection = client.connect(codec);
        } catch (RuntimeException e) {
            String why = connectHint(e, host, port).orElse("not within its bounds (connectTimeout " + connectTimeout
                    + " for the TCP connect and again for the TLS handshake, commandTimeout " + commandTimeout
                    + " per round trip)");
            throw refuse(classify(e), "cannot connect to " + this + ": " + why + ": " + describe(e), e);
        }
        try {
            prove(connection);
            return connection;
        } catch (RuntimeException e) {
            connection.close();
            throw e;
        }
    }

    /** The underlying client, e.g. for pub/sub; its connections are not proven by {@link #connect()}. */
    public RedisClient client() {
        return client;
    }

    /** The ACL user this client logs in as. */
    public String user() {
        return user;
    }

    /** Shuts the client and its threads down (not those of {@link Builder#clientResources}, which you own). */
    @Override
    public void close() {
        client.shutdown();
        resources.shutdown();
    }

    /** Server and user; never the password. */
    @Override
    public String toString() {
        return "HardenedRedis[rediss://" + host + ":" + port + ", user=" + user + "]";
    }

    private void prove(StatefulRedisConnection<?, ?> connection) {
        StatefulRedisConnection<String, String> text = asText(connection);
        prove(text.sync()::aclWhoami, text.sync()::clientInfo, this.toString(), host + ":" + port,
                user, allowedProtocols, guard, audit, clock);
    }

    /**
     * Proves a connection (single server or cluster): {@code ACL WHOAMI} is {@code user} and the
     * channel that {@code CLIENT INFO} names negotiated an allowed TLS version; audits
     * {@code redis.connected}.
     */
    static void prove(Supplier<String> whoamiCommand, Supplier<String> clientInfoCommand, String name,
            String server, String user, Set<String> allowedProtocols, TlsHandshakeGuard guard, AuditLog audit,
            Clock clock) {
        String whoami;
        String info;
        try {
            whoami = whoamiCommand.get();
            info = clientInfoCommand.get();
        } catch (RedisCommandExecutionException e) {
            throw refuse(RedisTlsException.Reason.CONNECTION_FAILED, "cannot prove the connection to " + name
                    + ": " + describe(e) + "; grant the ACL user +acl|whoami and +client|info", e,
                    server, user, audit, clock);
        }
        if (!user.equals(whoami)) {
            throw refuse(RedisTlsException.Reason.WRONG_USER, "the connection to " + name
                    + " is authenticated as '" + whoami + "', not '" + user + "'", null, server, user, audit, clock);
        }
        int localPort = ClientInfo.localPort(info);
        TlsHandshakeGuard.Handshake handshake = guard.handshakeOn(localPort).orElseThrow(() -> refuse(
                RedisTlsException.Reason.PROTOCOL_NOT_ALLOWED, "no TLS handshake is recorded for the channel of "
                        + name + " (local port " + localPort + ")", null, server, user, audit, clock));
        if (!allowedProtocols.contains(handshake.protocol())) {
            throw refuse(RedisTlsException.Reason.PROTOCOL_NOT_ALLOWED, "the connection to " + name + " uses "
                    + handshake.protocol() + "; allowed: " + allowedProtocols, null, server, user, audit, clock);
        }
        audit.record(AuditEvent.builder(clock.instant(), "redis.connected", AuditEvent.Outcome.ALLOWED)
                .field("server", server)
                .field("user", whoami)
                .field("protocol", handshake.protocol())
                .field("client_fingerprint", handshake.clientFingerprint())
                .field("server_fingerprint", handshake.serverFingerprint())
                .build());
    }

    /** The connection typed for the proof commands; {@link #connect(RedisCodec)} admits only StringCodecs. */
    @SuppressWarnings("unchecked")
    private static StatefulRedisConnection<String, String> asText(StatefulRedisConnection<?, ?> connection) {
        return (StatefulRedisConnection<String, String>) connection;
    }

    private RedisTlsException refuse(RedisTlsException.Reason reason, String message, @Nullable Throwable cause) {
        return refuse(reason, message, cause, host + ":" + port, user, audit, clock);
    }

    /** Records a {@code redis.refused} event and returns the exception to throw. */
    static RedisTlsException refuse(RedisTlsException.Reason reason, String message, @Nullable Throwable cause,
            String server, String user, AuditLog audit, Clock clock) {
        audit.record(AuditEvent.builder(clock.instant(), "redis.refused", AuditEvent.Outcome.REFUSED)
                .field("reason", reason)
                .field("server", server)
                .field("user", user)
                .field("detail", message)
                .build());
        return cause == null ? new RedisTlsException(reason, message) : new RedisTlsException(reason, message, cause);
    }

    static RedisTlsException.Reason classify(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof RedisTlsException refused) {
                return refused.reason(); // ours, wherever it sits in the chain
            }
        }
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof SSLException) {
                return RedisTlsException.Reason.HANDSHAKE_FAILED;
            }
            String message = String.valueOf(t.getMessage());
            if (message.startsWith("WRONGPASS") || message.startsWith("NOAUTH")) {
                return RedisTlsException.Reason.AUTHENTICATION_FAILED;
            }
        }
        return RedisTlsException.Reason.CONNECTION_FAILED;
    }

    /**
     * What to fix after a failed connect to {@code host:port}, when the failure shows it: nothing
     * listens there; core's verifier found no path from the server's certificate to the trust
     * bundle; or the server refused the CA of our certificate ({@code unknown_ca}). Empty otherwise.
     */
    static Optional<String> connectHint(Throwable e, String host, int port) {
        List<Throwable> all = failures(e).toList();
        Optional<String> nothingThere = all.stream().map(t -> ConnectFailures.describe(t, host, port))
                .flatMap(Optional::stream).findFirst();
        if (nothingThere.isPresent()) {
            return nothingThere;
        }
        if (all.stream().anyMatch(t -> t instanceof PeerVerificationException refused
                && refused.reason() == PeerVerificationException.Reason.UNTRUSTED_ISSUER)) {
            return Optional.of("the server's certificate is not from a CA in this service's trust bundle (or the"
                    + " server does not send its intermediate CA): add the CA that issued it to the trust bundle of"
                    + " credentials(...)");
        }
        if (all.stream().anyMatch(t -> String.valueOf(t.getMessage()).contains("alert: unknown_ca"))) {
            return Optional.of("the Redis server does not trust the CA of this service's certificate: add it to the"
                    + " server's tls-ca-cert-file");
        }
        return Optional.empty();
    }

    /** {@code e}, its causes and the exceptions suppressed by any of them (Lettuce reports each seed's failure so). */
    static Stream<Throwable> failures(Throwable e) {
        Stream.Builder<Throwable> all = Stream.builder();
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            all.add(t);
            for (Throwable suppressed : t.getSuppressed()) {
                all.add(suppressed);
            }
        }
        return all.build();
    }

    /** The innermost messages, which say what failed; Lettuce's outer ones only name the URI. */
    static String describe(Throwable e) {
        StringBuilder text = new StringBuilder();
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (text.length() > 0) {
                text.append(" <- ");
            }
            text.append(t.getClass().getSimpleName()).append(": ").append(t.getMessage());
        }
        return LogSafe.text(text.toString());
    }

    /** Builds a {@link HardenedRedis}. Not thread-safe. */
    public static final class Builder {
        private static final Pattern USER = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.@-]{0,127}");

        @Nullable String host;
        int port = 6379;
        private @Nullable String uri;
        @Nullable String user;
        private @Nullable PasswordSource passwords;
        private @Nullable CredentialSource credentials;
        Optional<String> expectedServer = Optional.empty();
        private boolean allowTls12;
        Duration commandTimeout = Duration.ofSeconds(5);
        Duration connectTimeout = Duration.ofSeconds(5);
        private int requestQueueSize = 10_000;
        private int ioThreads = 2;
        private @Nullable ClientResources ownedResources;
        AuditLog audit = AuditLog.slf4j();
        Clock clock = Clock.systemUTC();

        private Builder() {
        }

        /**
         * Host and port from a URI. Only {@code rediss://host[:port]} (and an optional
         * {@code ?verifyPeer=FULL}) is accepted; the user and password are set separately.
         */
        public Builder uri(String uri) {
            this.uri = Objects.requireNonNull(uri, "uri");
            return this;
        }

        /** The server's host name (or IP address); what the server certificate must name. */
        public Builder host(String host) {
            this.host = Objects.requireNonNull(host, "host");
            return this;
        }

        /** The server's TLS port (default 6379). */
        public Builder port(int port) {
            this.port = port;
            return this;
        }

        /** The ACL user to log in as. */
        public Builder user(String user) {
            this.user = Objects.requireNonNull(user, "user");
            return this;
        }

        /**
         * Where the ACL password comes from; read once by {@link #build()} (a missing or unreadable
         * secret fails there) and again on every connect and reconnect. Required.
         */
        public Builder password(PasswordSource passwords) {
            this.passwords = Objects.requireNonNull(passwords, "passwords");
            return this;
        }

        /** What this client presents and trusts (core); rotations reach the next (re)connect. Required. */
        public Builder credentials(CredentialSource credentials) {
            this.credentials = Objects.requireNonNull(credentials, "credentials");
            return this;
        }

        /**
         * The name the server must prove, when it is not the host connected to: a SPIFFE ID,
         * a DNS name or an IP address.
         */
        public Builder expectedServer(String hostOrIdentity) {
            this.expectedServer = Optional.of(Objects.requireNonNull(hostOrIdentity, "hostOrIdentity"));
            return this;
        }

        /**
         * Also accepts TLS 1.2 (forward-secret AEAD suites), for servers that cannot speak 1.3; audited
         * as a WARNING.
         */
        public Builder allowTls12() {
            this.allowTls12 = true;
            return this;
        }

        /**
         * How long a command may wait for its reply (default 5 seconds; whole milliseconds, rounded
         * up). A command on a server that does not answer fails after it with Lettuce's
         * {@code RedisCommandTimeoutException}; the connection stays usable once the server answers.
         */
        public Builder commandTimeout(Duration commandTimeout) {
            this.commandTimeout = milliseconds(commandTimeout, "commandTimeout");
            return this;
        }

        /**
         * How long the TCP connect may take, and again the TLS handshake (default 5 seconds; whole
         * milliseconds, rounded up: Netty reads 0 as "no limit").
         */
        public Builder connectTimeout(Duration connectTimeout) {
            this.connectTimeout = milliseconds(connectTimeout, "connectTimeout");
            return this;
        }

        /** How many commands may wait per connection before new ones are refused (default 10,000). */
        public Builder requestQueueSize(int requestQueueSize) {
            if (requestQueueSize < 1) {
                throw invalid("requestQueueSize must be at least 1; got " + requestQueueSize);
            }
            this.requestQueueSize = requestQueueSize;
            return this;
        }

        /** Netty I/O threads (default 2). */
        public Builder ioThreads(int ioThreads) {
            if (ioThreads < 1) {
                throw invalid("ioThreads must be at least 1; got " + ioThreads);
            }
            this.ioThreads = ioThreads;
            return this;
        }

        /**
         * Lettuce resources you own, e.g. with metrics or tracing: the client runs on their threads,
         * records into their latency recorder and tracing, and publishes its events to their bus too;
         * the TLS handshake guard is added after their Netty customizer. {@link HardenedRedis#close()}
         * does not shut them down; you do, after closing the client. {@link #ioThreads(int)} does not
         * apply then. Default: resources of the client's own.
         */
        public Builder clientResources(ClientResources resources) {
            this.ownedResources = Objects.requireNonNull(resources, "resources");
            return this;
        }

        /** Where refusals, handshakes and the posture go (default {@link AuditLog#slf4j()}). */
        public Builder auditLog(AuditLog audit) {
            this.audit = Objects.requireNonNull(audit, "audit");
            return this;
        }

        /** The clock for certificate validity and audit times (default the system clock). */
        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /**
         * Checks the settings and builds the client (it connects only on {@link HardenedRedis#connect()}).
         *
         * @throws RedisTlsException for any refused setting, after recording a {@code redis.refused} event
         */
        public HardenedRedis build() {
            return new HardenedRedis(this, validated());
        }

        /**
         * Checks the settings and builds a Redis Cluster client that uses the host and port as its
         * seed node and learns the other nodes from the cluster; every node gets the same TLS,
         * certificate checks and ACL login as {@link #build()}.
         *
         * @throws RedisTlsException for any refused setting, after recording a {@code redis.refused} event
         */
        public HardenedRedisCluster buildCluster() {
            return new HardenedRedisCluster(this, validated());
        }

        /** The checked settings' TLS context; refusals are audited. */
        MtlsContext validated() {
            MtlsContext.Builder tls;
            try {
                if (uri != null) {
                    applyUri(uri);
                }
                check();
                tls = MtlsContext.client(checkedCredentials()).auditLog(audit).clock(clock);
                expectedServer.ifPresent(name -> expect(tls, name));
            } catch (RedisTlsException e) {
                audit.record(AuditEvent.builder(clock.instant(), "redis.refused", AuditEvent.Outcome.REFUSED)
                        .field("reason", e.reason())
                        .field("server", host == null ? "unset" : host + ":" + port)
                        .field("user", user == null ? "unset" : user)
                        .field("detail", e.getMessage())
                        .build());
                throw e;
            }
            if (allowTls12) {
                tls.allowTls12();
            }
            return tls.build();
        }

        /** The expected server name, or a refusal with the name parser's own message. */
        private static void expect(MtlsContext.Builder tls, String name) {
            try {
                tls.expectedServer(name);
            } catch (IllegalArgumentException e) {
                throw invalid("expectedServer must be a SPIFFE ID, a DNS name or an IP address: " + e.getMessage());
            }
        }

        Set<String> allowedProtocols() {
            return allowTls12 ? Set.of(TLS13, TLS12) : Set.of(TLS13);
        }

        /** The client's resources; shutting them down stops only what they made themselves. */
        ClientResources resources(TlsHandshakeGuard guard) {
            ClientResources resources = ownedResources != null ? SharedClientResources.around(ownedResources, guard)
                    : DefaultClientResources.builder()
                    .ioThreadPoolSize(ioThreads)
                    .computationThreadPoolSize(ioThreads)
                    .nettyCustomizer(guard)
                    .build();
            ReconnectAudit.subscribe(resources, checkedUser(), audit, clock); // a refused login on reconnect
            return resources;
        }

        RedisURI redisUri() {
            return RedisURI.builder()
                    .withHost(checkedHost())
                    .withPort(port)
                    .withSsl(true)
                    .withVerifyPeer(SslVerifyMode.FULL)
                    .withAuthentication(new AclCredentialsProvider(checkedUser(), checkedPasswords()))
                    .withTimeout(commandTimeout)
                    .build();
        }

        /** The hardened client options, for a single-server or a cluster options builder. */
        <T extends ClientOptions.Builder> T applyClientOptions(T options, MtlsContext tls) {
            SSLParameters parameters = tls.sslParameters();
            SslOptions ssl = SslOptions.builder()
                    .jdkSslProvider()
                    .protocols(parameters.getProtocols())
                    .cipherSuites(parameters.getCipherSuites())
                    .sslParameters(tls::sslParameters)
                    .handshakeTimeout(connectTimeout)
                    // Core's managers: rotation-aware key material; PKIX plus name matching (URI, DNS,
                    // IP SANs) with audit. Netty must not add its own host name check on top.
                    .sslContext(context -> context
                            .keyManager(tls.keyManager())
                            .trustManager(tls.trustManager())
                            .endpointIdentificationAlgorithm(null))
                    .build();
            options.disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                    .requestQueueSize(requestQueueSize)
                    .timeoutOptions(TimeoutOptions.enabled(commandTimeout))
                    .socketOptions(SocketOptions.builder().connectTimeout(connectTimeout).keepAlive(true).build())
                    .sslOptions(ssl)
                    .autoReconnect(true);
            return options;
        }

        void recordPosture(MtlsContext tls, String action) {
            audit.record(AuditEvent.builder(clock.instant(), action,
                            allowTls12 ? AuditEvent.Outcome.WARNING : AuditEvent.Outcome.INFO)
                    .field("server", host + ":" + port)
                    .field("user", user)
                    .field("protocols", String.join(",", tls.sslParameters().getProtocols()))
                    .field("verify", "full")
                    .field("disconnected_behavior", "reject")
                    .field("request_queue_size", requestQueueSize)
                    .field("command_timeout", commandTimeout)
                    .field("connect_timeout", connectTimeout)
                    .build());
        }

        private void applyUri(String uri) {
            String scheme = uri.contains("://") ? uri.substring(0, uri.indexOf("://")) : "";
            if (!scheme.equalsIgnoreCase("rediss")) {
                throw new RedisTlsException(scheme.equalsIgnoreCase("redis")
                        ? RedisTlsException.Reason.PLAINTEXT_SCHEME : RedisTlsException.Reason.INVALID_CONFIGURATION,
                        "only rediss:// URIs are accepted (TLS); got a URI with scheme '" + LogSafe.text(scheme)
                                + "'. Use rediss://host:port");
            }
            RedisURI parsed;
            try {
                parsed = RedisURI.create(uri);
            } catch (RuntimeException e) {
                // The URI may hold a password: do not echo it or Lettuce's message.
                throw new RedisTlsException(RedisTlsException.Reason.INVALID_CONFIGURATION,
                        "the rediss:// URI does not parse; write it as rediss://host:port");
            }
            if (parsed.getCredentialsProvider() != null && hasPassword(parsed)) {
                throw new RedisTlsException(RedisTlsException.Reason.PASSWORD_IN_URI, "the URI holds a password, "
                        + "which ends up in logs; remove it and use password(PasswordSource) instead");
            }
            if (!parsed.isSsl() || parsed.getSocket() != null || !parsed.getSentinels().isEmpty()) {
                throw new RedisTlsException(RedisTlsException.Reason.PLAINTEXT_SCHEME,
                        "the URI does not describe a direct TLS connection; use rediss://host:port");
            }
            if (parsed.getVerifyMode() != SslVerifyMode.FULL) {
                throw new RedisTlsException(RedisTlsException.Reason.WEAK_VERIFICATION, "the URI asks for verifyPeer="
                        + parsed.getVerifyMode()
                        + "; only FULL (chain and host name) is allowed: remove the parameter");
            }
            if (parsed.isStartTls()) {
                throw new RedisTlsException(RedisTlsException.Reason.WEAK_VERIFICATION,
                        "STARTTLS is refused: the first bytes would travel in clear; remove startTls from the URI");
            }
            this.host = parsed.getHost();
            this.port = parsed.getPort();
        }

        private static boolean hasPassword(RedisURI parsed) {
            return Optional.ofNullable(parsed.getCredentialsProvider().resolveCredentials().block())
                    .map(credentials -> {
                        boolean has = credentials.hasPassword();
                        char[] password = credentials.getPassword();
                        if (password != null) {
                            Arrays.fill(password, '\0');
                        }
                        return has;
                    })
                    .orElse(false);
        }

        // The settings check() requires: set once validated() passed, which every build runs first.
        String checkedHost() {
            return Objects.requireNonNull(host, "host, checked by validated()");
        }

        String checkedUser() {
            return Objects.requireNonNull(user, "user, checked by validated()");
        }

        private PasswordSource checkedPasswords() {
            return Objects.requireNonNull(passwords, "passwords, checked by validated()");
        }

        private CredentialSource checkedCredentials() {
            return Objects.requireNonNull(credentials, "credentials, checked by validated()");
        }

        private void check() {
            if (host == null || host.isBlank() || host.chars().anyMatch(c -> c <= ' ' || c == '/' || c == '@')) {
                throw invalid("set host(...) or uri(\"rediss://host:port\") to the Redis server's name");
            }
            if (port < 1 || port > 65535) {
                throw invalid("port must be between 1 and 65535; got " + port);
            }
            if (user == null) {
                throw invalid("set user(...) to the ACL user this service logs in as (never 'default')");
            }
            if (!USER.matcher(user).matches() || user.equals("default")) {
                throw invalid("the ACL user must be a named user of letters, digits, '_', '.', '@' or '-' (not "
                        + "'default'); got '" + LogSafe.text(user) + "'");
            }
            if (passwords == null) {
                throw new RedisTlsException(RedisTlsException.Reason.PASSWORD_MISSING, "no password source: set "
                        + "password(PasswordSource.fromFile(...)) or password(PasswordSource.fromEnvironment(...))");
            }
            // Read once now: a missing, empty or unreadable secret fails build(), not the first connect.
            Arrays.fill(passwords.password(), '\0');
            if (credentials == null) {
                throw invalid("set credentials(...) to the CredentialSource with this service's certificate and "
                        + "the CA that issued the Redis server's certificate");
            }
        }

        /** A positive duration as whole milliseconds, rounded up, so that none becomes 0 ("no limit"). */
        private static Duration milliseconds(Duration duration, String name) {
            try {
                return Duration.ofMillis(Durations.toMillisRoundedUp(Durations.requirePositive(name, duration)));
            } catch (IllegalArgumentException e) {
                throw invalid(Objects.requireNonNullElse(e.getMessage(), name + " is invalid"));
            }
        }

        private static RedisTlsException invalid(String message) {
            return new RedisTlsException(RedisTlsException.Reason.INVALID_CONFIGURATION, message);
        }
    }
}
