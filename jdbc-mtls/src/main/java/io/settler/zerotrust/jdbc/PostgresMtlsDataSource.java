package io.settler.zerotrust.jdbc;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import com.zaxxer.hikari.SQLExceptionOverride;
import io.settler.zerotrust.audit.AuditEvent;
import io.settler.zerotrust.audit.AuditLog;
import io.settler.zerotrust.audit.LogSafe;
import io.settler.zerotrust.credentials.CredentialSnapshot;
import io.settler.zerotrust.credentials.CredentialSource;
import io.settler.zerotrust.jdbc.InsecureDataSourceException.Reason;
import io.settler.zerotrust.network.ConnectFailures;
import io.settler.zerotrust.time.Durations;
import io.settler.zerotrust.tls.MtlsContext;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * A HikariCP pool of PostgreSQL connections that cannot be configured insecurely: always
 * {@code sslmode=verify-full}, TLS 1.3 only, the client certificate and trust anchors from a core
 * {@link CredentialSource} (no key files, no {@code ~/.postgresql}), and no cleartext
 * query-cancel requests.
 *
 * <pre>{@code
 * PostgresMtlsDataSource orders = PostgresMtlsDataSource.builder()
 *         .host("db.internal").port(5432).database("orders").role("orders_app")
 *         .credentials(credentials)              // rotating client certificate + trust anchors
 *         .maximumPoolSize(8)
 *         .build();                              // connects, checks TLS 1.3, the certificate and the role
 * }</pre>
 *
 * <p>Building refuses, with an {@link InsecureDataSourceException} and an audit event, any property
 * or URL that would weaken this, and a client certificate whose subject CN is not exactly its own
 * SPIFFE ID (PostgreSQL maps the CN to a role; see {@link PostgresServerConfig#identLines()}); then
 * it connects once and checks with {@code pg_stat_ssl} that the session is TLS 1.3 with our client
 * certificate, and that the role cannot get around row-level security, neither itself nor through a
 * role it can become (see the module README). When the
 * credential source rotates, connections are soft-evicted (idle ones now, busy ones when returned),
 * and once more after the connection timeout for connections whose handshake raced the rotation, so
 * new connections present the new certificate; {@code maxLifetime} never outlives the certificate.
 * Connections are validated with one real round trip ({@link Connection#isValid(int)}).
 *
 * <p>Every wait is bounded: a call on a server that does not answer fails within
 * {@link #socketTimeout()} (the statement timeout plus one second by default) with SQLState
 * {@code 08006} caused by a {@link PostgresTimeoutException}, and its connection is evicted; a borrow
 * within the connection timeout plus at most five seconds of validation.
 */
public final class PostgresMtlsDataSource extends HikariDataSource {

    private static final Duration LIFETIME_MARGIN = Duration.ofMinutes(1);
    private static final Duration HIKARI_MINIMUM_LIFETIME = Duration.ofSeconds(30);
    /** How much longer than the statement timeout the client waits for an answer. */
    static final Duration STATEMENT_TIMEOUT_MARGIN = Duration.ofSeconds(1);
    /** The client's wait for an answer when no statement timeout is set. */
    static final Duration DEFAULT_SOCKET_TIMEOUT = Duration.ofSeconds(60);
    /** HikariCP refuses shorter connection and validation timeouts. */
    private static final Duration HIKARI_TIMEOUT_FLOOR = Duration.ofMillis(250);
    private static final Duration MAX_VALIDATION_TIMEOUT = Duration.ofSeconds(5);
    /** pgjdbc multiplies its second-valued timeouts into an int of milliseconds. */
    private static final Duration MAX_TIMEOUT = Duration.ofDays(24);

    private final String registryKey;
    private final AuditLog audit;
    private final Clock clock;
    private final Duration maxLifetime;
    private final boolean readOnlyRole;
    private final String role;
    private final Duration settleDelay;
    private final Duration socketTimeout;
    private final ScheduledExecutorService settler;
    private volatile AutoCloseable rotationHandle = () -> { };

    private PostgresMtlsDataSource(HikariConfig config, String registryKey, Builder builder) {
        super(config);
        this.registryKey = registryKey;
        this.audit = builder.audit;
        this.clock = builder.clock;
        this.maxLifetime = builder.maxLifetime;
        this.readOnlyRole = builder.readOnly;
        this.role = builder.checkedRole();
        // A connection whose handshake began before a rotation can join the pool just after the
        // eviction; HikariCP bounds every attempt by a login timeout of connectionTimeout + 0.5 s,
        // so a second eviction after it catches such stragglers.
        this.settleDelay = builder.connectionTimeout.plusSeconds(2);
        this.socketTimeout = builder.effectiveSocketTimeout();
        String threadName = config.getPoolName() + " rotation";
        this.settler = Executors.newSingleThreadScheduledExecutor(runnable -> {
            Thread thread = new Thread(runnable, threadName);
            thread.setDaemon(true);
            return thread;
        });
    }

    /** Starts configuring a data source. */
    public static Builder builder() {
        return new Builder();
    }

    /** The role every connection logs in as. */
    public String role() {
        return role;
    }

    /**
     * How long a call waits for the server to answer before it fails (pgjdbc's {@code socketTimeout},
     * whole seconds): {@link Builder#socketTimeout}, else the statement timeout plus one second
     * rounded up, else 60 seconds.
     */
    public Duration socketTimeout() {
        return socketTimeout;
    }

    /** Whether this pool is the read-only kind ({@link Builder#readOnly()}). */
    public boolean readOnlyRole() {
        return readOnlyRole;
    }

    /** Closes the pool, stops following rotations and removes this pool's driver registry entry. */
    @Override
    public void close() {
        try {
            rotationHandle.close();
        } catch (Exception e) {
            throw new IllegalStateException("cannot stop following credential rotations", e);
        } finally {
            settler.shutdownNow();
            try {
                super.close();
            } finally {
                DriverRegistry.remove(registryKey);
            }
        }
    }

    /** The pool's name and role; never credentials. */
    @Override
    public String toString() {
        return "PostgresMtlsDataSource[" + getPoolName() + ", role=" + role + "]";
    }

    /** The registry entry pgjdbc finds this pool's TLS through (for tests). */
    String registryKey() {
        return registryKey;
    }

    AuditLog auditLog() {
        return audit;
    }

    Clock clock() {
        return clock;
    }

    private void followRotations(CredentialSource credentials) {
        this.rotationHandle = credentials.onRotation(this::rotated);
    }

    private void rotated(CredentialSnapshot snapshot) {
        try {
            CertificateRoleName.requireMappable(snapshot.identity());
        } catch (InsecureDataSourceException e) {
            // The server will refuse the new certificate's connections (or map them to no role): say why.
            StartupChecks.refuse(audit, clock, getPoolName(), e);
        }
        recycle(snapshot, "rotated");
        try {
            settler.schedule(() -> recycle(snapshot, "settled"), settleDelay.toMillis(), TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            // closed meanwhile: nothing left to recycle
        }
    }

    private void recycle(CredentialSnapshot snapshot, String phase) {
        if (isClosed()) {
            return;
        }
        Duration lifetime = cappedLifetime(maxLifetime, snapshot, clock);
        getHikariConfigMXBean().setMaxLifetime(lifetime.toMillis());
        getHikariPoolMXBean().softEvictConnections();
        audit.record(AuditEvent.builder(clock.instant(), "jdbc.pool_recycled", AuditEvent.Outcome.INFO)
                .field("pool", getPoolName())
                .field("phase", phase)
                .field("generation", snapshot.generation())
                .field("fingerprint", snapshot.identity().fingerprint())
                .field("max_lifetime", lifetime)
                .build());
    }

    /** A connection whose socket timed out is left mid-protocol: evict it, whatever its SQLState. */
    private static final class EvictTimedOut implements SQLExceptionOverride {
        @java.lang.Override
        public SQLExceptionOverride.Override adjudicate(SQLException failure) {
            return PostgresTimeoutException.findIn(failure).isPresent()
                    ? SQLExceptionOverride.Override.MUST_EVICT : SQLExceptionOverride.Override.CONTINUE_EVICT;
        }
    }

    /** {@code maxLifetime}, but ending a margin before the client certificate expires. */
    static Duration cappedLifetime(Duration wanted, CredentialSnapshot snapshot, Clock clock) {
        Duration remaining = Duration.between(clock.instant(), snapshot.identity().notAfter()).minus(LIFETIME_MARGIN);
        Duration capped = remaining.compareTo(wanted) < 0 ? remaining : wanted;
        return capped.compareTo(HIKARI_MINIMUM_LIFETIME) < 0 ? HIKARI_MINIMUM_LIFETIME : capped;
    }

    /**
     * Builds a {@link PostgresMtlsDataSource}. Host, database, role and credentials are required.
     * Not thread-safe; the data source it builds is.
     */
    public static final class Builder {
        private @Nullable String host;
        private int port = 5432;
        private @Nullable String database;
        private @Nullable String role;
        private @Nullable CredentialSource credentials;
        private Optional<String> expectedServer = Optional.empty();
        private AuditLog audit = AuditLog.slf4j();
        private Clock clock = Clock.systemUTC();
        private @Nullable String poolName;
        private int maximumPoolSize = 8;
        private Optional<Integer> minimumIdle = Optional.empty();
        private Duration connectionTimeout = Duration.ofSeconds(30);
        private Duration maxLifetime = Duration.ofMinutes(30);
        private Optional<Duration> statementTimeout = Optional.empty();
        private Optional<Duration> socketTimeout = Optional.empty();
        private boolean readOnly;
        private final Map<String, String> properties = new LinkedHashMap<>();
        private @Nullable InsecureDataSourceException pending;

        private Builder() {
        }

        /** The server's host name or IP address; the server certificate must name it (DNS or IP SAN). */
        public Builder host(String host) {
            this.host = Objects.requireNonNull(host, "host");
            return this;
        }

        /** The server's TCP port (default 5432). */
        public Builder port(int port) {
            if (port < 1 || port > 65535) {
                throw new IllegalArgumentException("port must be 1..65535; got " + port);
            }
            this.port = port;
            return this;
        }

        /** The database to connect to. */
        public Builder database(String database) {
            this.database = Objects.requireNonNull(database, "database");
            return this;
        }

        /** The role to log in as; the server maps the client certificate to it ({@code cert} in pg_hba.conf). */
        public Builder role(String role) {
            this.role = Objects.requireNonNull(role, "role");
            return this;
        }

        /**
         * The client certificate to present and the anchors the server must chain to; rotations are
         * followed. The certificate's CN must be its SPIFFE ID (at most 64 characters).
         */
        public Builder credentials(CredentialSource credentials) {
            this.credentials = Objects.requireNonNull(credentials, "credentials");
            return this;
        }

        /**
         * The name the server must prove (a DNS name, IP address or SPIFFE ID in its certificate);
         * default the host connected to. pgjdbc's verify-full still checks the host name too.
         */
        public Builder expectedServer(String hostOrIdentity) {
            this.expectedServer = Optional.of(Objects.requireNonNull(hostOrIdentity, "expectedServer"));
            return this;
        }

        /**
         * Host, port, database and properties from one {@code jdbc:postgresql://host:port/database?...}
         * URL. Properties are checked like {@link #property(String, String)}; a URL that asks for
         * plaintext, another sslmode or files is refused at {@link #build()}.
         */
        public Builder jdbcUrl(String url) {
            Objects.requireNonNull(url, "url");
            try {
                ConnectionProperties.ParsedUrl parsed = ConnectionProperties.parseUrl(url);
                host(parsed.host());
                parsed.port().ifPresent(this::port);
                database(parsed.database());
                parsed.properties().forEach(this::property);
            } catch (InsecureDataSourceException e) {
                pending = pending == null ? e : pending;
            }
            return this;
        }

        /**
         * A pgjdbc connection property. Only harmless tuning properties are accepted (e.g.
         * {@code ApplicationName}, {@code connectTimeout}, {@code prepareThreshold}); anything about
         * TLS, files, passwords or the transport is refused at {@link #build()}.
         */
        public Builder property(String name, String value) {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(value, "value");
            try {
                ConnectionProperties.check(name, value);
                properties.put(name, value);
            } catch (InsecureDataSourceException e) {
                pending = pending == null ? e : pending;
            }
            return this;
        }

        /** Where refusals, rotations and the posture go (default {@link AuditLog#slf4j()}). */
        public Builder auditLog(AuditLog audit) {
            this.audit = Objects.requireNonNull(audit, "audit");
            return this;
        }

        /** The clock for certificate validity and lifetimes (default the system clock). */
        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /** The pool's name in logs and metrics (default {@code pg-mtls-<role>-<random>}). */
        public Builder poolName(String poolName) {
            this.poolName = Objects.requireNonNull(poolName, "poolName");
            return this;
        }

        /** The most connections the pool holds (default 8). */
        public Builder maximumPoolSize(int size) {
            if (size < 1) {
                throw new IllegalArgumentException("maximumPoolSize must be at least 1; got " + size);
            }
            this.maximumPoolSize = size;
            return this;
        }

        /** Idle connections kept ready (default: the maximum pool size, a fixed pool). */
        public Builder minimumIdle(int minimumIdle) {
            if (minimumIdle < 0) {
                throw new IllegalArgumentException("minimumIdle must not be negative; got " + minimumIdle);
            }
            this.minimumIdle = Optional.of(minimumIdle);
            return this;
        }

        /**
         * How long a borrower waits for a connection (default 30 seconds; at least 250 ms, HikariCP's
         * floor). Also bounds opening a connection: TCP connect (whole seconds, rounded up) and login,
         * TLS handshake included. A borrow returns within this plus the validation of an idle
         * connection (at most 5 seconds).
         */
        public Builder connectionTimeout(Duration timeout) {
            Durations.requireBetween("connectionTimeout", timeout, MAX_TIMEOUT);
            if (timeout.compareTo(HIKARI_TIMEOUT_FLOOR) < 0) {
                throw new IllegalArgumentException("connectionTimeout must be at least " + HIKARI_TIMEOUT_FLOOR
                        + " (HikariCP's floor); got " + timeout);
            }
            this.connectionTimeout = timeout;
            return this;
        }

        /**
         * How long a connection lives (default 30 minutes); capped so that it ends a minute before
         * the client certificate expires.
         */
        public Builder maxLifetime(Duration maxLifetime) {
            this.maxLifetime = Durations.requirePositive("maxLifetime", maxLifetime);
            return this;
        }

        /**
         * A server-side {@code statement_timeout} for every session (whole milliseconds, rounded up;
         * at most 24 days). Use it instead of {@code Statement.setQueryTimeout}: pgjdbc cancels queries
         * over cleartext, which this data source refuses. The client waits for an answer one second
         * longer (see {@link #socketTimeout}), so a statement on a server that does not answer at all
         * fails too.
         */
        public Builder statementTimeout(Duration timeout) {
            this.statementTimeout = Optional.of(Durations.requireBetween("statementTimeout", timeout, MAX_TIMEOUT));
            return this;
        }

        /**
         * How long a call waits for the server to send anything (pgjdbc's {@code socketTimeout}, whole
         * seconds, rounded up; at most 24 days), TLS handshake and login included. A call that waits
         * longer fails with SQLState {@code 08006} caused by a {@link PostgresTimeoutException}, and
         * its connection is closed and evicted from the pool. Default: the statement timeout plus one
         * second, or 60 seconds without a statement timeout. Must be longer than the statement timeout.
         */
        public Builder socketTimeout(Duration timeout) {
            this.socketTimeout = Optional.of(Durations.requireBetween("socketTimeout", timeout, MAX_TIMEOUT));
            return this;
        }

        /**
         * A read-only pool (admin tools, reports): connections are {@code readOnly}, and at start-up
         * the server must prove it too: the role's sessions default to
         * {@code default_transaction_read_only = on} and it holds no INSERT, UPDATE, DELETE or
         * TRUNCATE privilege on any table.
         */
        public Builder readOnly() {
            this.readOnly = true;
            return this;
        }

        /**
         * Checks the settings, starts the pool (one connection at least), proves the TLS posture and
         * the role's privileges, and follows credential rotations.
         *
         * @throws InsecureDataSourceException if a setting would weaken TLS or isolation, the server
         *     refuses the connection, or a start-up check fails; also recorded as an audit event
         */
        public PostgresMtlsDataSource build() {
            String name = poolName != null ? poolName
                    : "pg-mtls-" + role + "-" + UUID.randomUUID().toString().substring(0, 8);
            try {
                checkSettings();
            } catch (InsecureDataSourceException e) {
                throw StartupChecks.refuse(audit, clock, name, e);
            }
            MtlsContext.Builder tls = MtlsContext.client(checkedCredentials()).auditLog(audit).clock(clock);
            tls.expectedServer(expectedServer.orElse(checkedHost()));
            MtlsContext context = tls.build();
            String key = DriverRegistry.register(new DriverRegistry.Entry(context.socketFactory(), audit, name));
            HikariConfig config = hikariConfig(name, key);
            PostgresMtlsDataSource dataSource;
            try {
                dataSource = new PostgresMtlsDataSource(config, key, this);
            } catch (RuntimeException e) {
                DriverRegistry.remove(key);
                throw StartupChecks.refuse(audit, clock, name, new InsecureDataSourceException(
                        Reason.CONNECTION_FAILED, "the first connection to " + host + ":" + port + "/" + database
                        + " as " + role + " failed: " + firstConnectionAdvice(e) + " ("
                        + LogSafe.text(rootMessage(e)) + ")", e));
            }
            try {
                StartupChecks.verify(dataSource, checkedCredentials().current(), readOnly);
                dataSource.followRotations(checkedCredentials());
            } catch (InsecureDataSourceException e) {
                dataSource.close();
                throw StartupChecks.refuse(audit, clock, name, e);
            } catch (SQLException | RuntimeException e) {
                dataSource.close();
                throw StartupChecks.refuse(audit, clock, name, new InsecureDataSourceException(
                        Reason.CONNECTION_FAILED, "the start-up checks could not run: "
                        + LogSafe.text(rootMessage(e)), e));
            }
            audit.record(AuditEvent.builder(clock.instant(), "jdbc.pool_started", AuditEvent.Outcome.INFO)
                    .field("pool", name)
                    .field("server", host + ":" + port + "/" + database)
                    .field("role", role)
                    .field("sslmode", "verify-full")
                    .field("protocols", "TLSv1.3")
                    .field("read_only", readOnly)
                    .field("max_lifetime", Duration.ofMillis(config.getMaxLifetime()))
                    .field("connection_timeout", connectionTimeout)
                    .field("statement_timeout", statementTimeout.map(Duration::toString).orElse("none"))
                    .field("socket_timeout", effectiveSocketTimeout())
                    .field("fingerprint", checkedCredentials().current().identity().fingerprint())
                    .build());
            return dataSource;
        }

        // The settings checkSettings() requires: set once it passed, which build() runs first.
        private String checkedHost() {
            return Objects.requireNonNull(host, "host, checked by checkSettings()");
        }

        String checkedRole() {
            return Objects.requireNonNull(role, "role, checked by checkSettings()");
        }

        private CredentialSource checkedCredentials() {
            return Objects.requireNonNull(credentials, "credentials, checked by checkSettings()");
        }

        /** What to fix after the first connection failed: the TCP connect, the role mapping, or else TLS. */
        private String firstConnectionAdvice(RuntimeException e) {
            return ConnectFailures.describe(e, checkedHost(), port)
                    .or(() -> checkedCredentials().current().identity().identity()
                            .flatMap(identity -> CertificateRoleName.refusedLogin(e, identity, checkedRole())))
                    .orElseGet(() -> "check that the server accepts this role's certificate (pg_hba.conf hostssl"
                            + " ... cert), that its certificate names " + expectedServer.orElse(host) + " and chains"
                            + " to the trust bundle, and that it speaks TLS 1.3");
        }

        /** The client's read bound, in the whole seconds pgjdbc takes. */
        Duration effectiveSocketTimeout() {
            Duration wanted = socketTimeout.orElseGet(() -> statementTimeout
                    .map(t -> t.plus(STATEMENT_TIMEOUT_MARGIN)).orElse(DEFAULT_SOCKET_TIMEOUT));
            return Duration.ofSeconds(Durations.toSecondsRoundedUp(wanted));
        }

        private void checkSettings() {
            if (pending != null) {
                throw pending;
            }
            if (socketTimeout.isPresent() && statementTimeout.isPresent()
                    && effectiveSocketTimeout().compareTo(statementTimeout.get()) <= 0) {
                throw new IllegalArgumentException("socketTimeout (" + effectiveSocketTimeout() + ") must be longer"
                        + " than statementTimeout (" + statementTimeout.get() + "), or the client gives up on"
                        + " statements the server still runs and loses their connections; raise socketTimeout or"
                        + " leave it unset (statementTimeout + 1 s)");
            }
            Objects.requireNonNull(host, "host is required");
            Objects.requireNonNull(database, "database is required");
            Objects.requireNonNull(role, "role is required");
            Objects.requireNonNull(credentials, "credentials are required");
            if (!CertificateRoleName.ROLE_NAME.matcher(role).matches()) {
                throw new IllegalArgumentException("role must be a plain PostgreSQL name; got " + LogSafe.text(role));
            }
            CertificateRoleName.requireMappable(credentials.current().identity());
            if (Duration.between(clock.instant(), credentials.current().identity().notAfter())
                    .compareTo(LIFETIME_MARGIN.plus(HIKARI_MINIMUM_LIFETIME)) < 0) {
                throw new InsecureDataSourceException(Reason.TLS_POSTURE, "the client certificate expires at "
                        + credentials.current().identity().notAfter() + ", too soon to open connections; renew it");
            }
        }

        private HikariConfig hikariConfig(String name, String key) {
            PGSimpleDataSource driver = new PGSimpleDataSource();
            driver.setServerNames(new String[] {host});
            driver.setPortNumbers(new int[] {port});
            driver.setDatabaseName(database);
            driver.setUser(role);
            driver.setSslMode("verify-full");
            driver.setSsl(true);
            driver.setSslfactory(MtlsSslSocketFactory.class.getName());
            driver.setSslfactoryarg(key);
            driver.setSocketFactory(SingleConnectionSocketFactory.class.getName());
            driver.setSocketFactoryArg(key);
            driver.setGssEncMode("disable");
            statementTimeout.ifPresent(
                    t -> driver.setOptions("-c statement_timeout=" + Durations.toMillisRoundedUp(t)));
            // Every wait bounded: pgjdbc's socketTimeout (0 = forever) also bounds the TLS handshake and
            // login; its connectTimeout the TCP connect; HikariCP sets loginTimeout from connectionTimeout.
            driver.setSocketTimeout((int) effectiveSocketTimeout().toSeconds());
            driver.setConnectTimeout((int) Durations.toSecondsRoundedUp(connectionTimeout));
            properties.forEach((k, v) -> {
                try {
                    driver.setProperty(k, v);
                } catch (SQLException e) {
                    throw new InsecureDataSourceException(Reason.UNKNOWN_PROPERTY,
                            "pgjdbc does not know the property '" + LogSafe.text(k) + "'", e);
                }
            });

            HikariConfig config = new HikariConfig();
            config.setPoolName(name);
            config.setDataSource(driver);
            config.setMaximumPoolSize(maximumPoolSize);
            config.setMinimumIdle(minimumIdle.orElse(maximumPoolSize));
            config.setConnectionTimeout(Durations.toMillisRoundedUp(connectionTimeout));
            config.setValidationTimeout(Durations.toMillisRoundedUp(
                    connectionTimeout.compareTo(MAX_VALIDATION_TIMEOUT) < 0
                            ? connectionTimeout : MAX_VALIDATION_TIMEOUT));
            // A call whose socket timed out left the connection mid-protocol: never hand it out again.
            config.setExceptionOverride(new EvictTimedOut());
            config.setMaxLifetime(cappedLifetime(maxLifetime, checkedCredentials().current(), clock).toMillis());
            config.setAutoCommit(true);
            config.setReadOnly(readOnly);
            config.setInitializationFailTimeout(1);
            return config;
        }

        private static String rootMessage(Throwable e) {
            Throwable t = e;
            StringBuilder text = new StringBuilder(String.valueOf(e.getMessage()));
            while (t.getCause() != null && t.getCause() != t) {
                t = t.getCause();
                text.append(": ").append(t.getMessage());
            }
            return text.toString();
        }
    }
}
