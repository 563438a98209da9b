package io.settler.zerotrust.testkit;

import io.settler.zerotrust.pki.DevCertificateAuthority;
import io.settler.zerotrust.pki.IssuedCertificate;
import io.settler.zerotrust.time.Durations;
import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real PostgreSQL server for tests, on {@code 127.0.0.1} and a free port, that accepts only
 * TLS 1.3 connections authenticated by a client certificate from a {@link DevCertificateAuthority}.
 *
 * <pre>{@code
 * try (LocalPostgres postgres = LocalPostgres.builder(ca).start()) {
 *     postgres.createRole("app");
 *     postgres.createDatabase("orders", "app");
 *     try (Connection c = postgres.connect("orders", "app")) { ... }
 * }
 * }</pre>
 *
 * <p>What the server enforces:
 * <ul>
 *   <li>{@code ssl_min_protocol_version = TLSv1.3}, with a server certificate for
 *       {@code DNS:localhost} and {@code IP:127.0.0.1} issued by the CA;</li>
 *   <li>{@code pg_hba.conf}: every TCP connection must be {@code hostssl} with {@code cert}
 *       authentication; {@code pg_ident.conf} maps a certificate whose CN is the SPIFFE ID
 *       {@code spiffe://<trust-domain>/<role>} (as the CA writes it) to that role and nothing else, so
 *       {@code spiffe://<trust-domain>/dev/app} is not {@code app}; plaintext is rejected; the
 *       bootstrap superuser cannot log in over TCP at all;</li>
 *   <li>administration ({@link #executeAsSuperuser(String)}) runs {@code psql} as the server's OS
 *       user over a Unix socket in the server's private directory (mode 0700), with {@code peer}
 *       authentication.</li>
 * </ul>
 *
 * <p>The cluster lives in {@code /tmp/settler-testkit-postgres-*}. When this JVM runs as root the
 * server runs as the OS user {@code postgres} (PostgreSQL refuses root). {@link #close()} stops the
 * server and deletes the directory; a JVM shutdown hook does the same if the JVM exits first, and
 * the next start cleans up after a JVM that was killed. The server is durable by default
 * ({@code fsync}, {@code synchronous_commit} and {@code full_page_writes} on): a transaction whose
 * commit returned survives {@link #crash()} and {@link #restart()}; {@link Builder#nonDurable()} is
 * the opt-out for speed.
 */
public final class LocalPostgres implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(LocalPostgres.class);
    private static final String HOST = "localhost";
    private static final String DEFAULT_MAP = "testkit";
    private static final int PORT_ATTEMPTS = 5;
    private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(10);

    private final DevCertificateAuthority ca;
    private final Binaries.Postgres binaries;
    private final ServerUser serverUser;
    private final ServerDirectory directory;
    private final Path dataDirectory;
    private final Path socketDirectory;
    private final Path tlsDirectory;
    private final Path caBundleFile;
    private final String keyStorePassword;
    private final ConcurrentMap<String, IssuedCertificate> clientCertificates = new ConcurrentHashMap<>();
    private final ConcurrentMap<String, Path> clientKeyStores = new ConcurrentHashMap<>();
    private final ServerLifecycle lifecycle;
    private volatile @Nullable ServerProcess server;
    private volatile int port;
    private volatile Duration startupTimeout = Duration.ofSeconds(60);
    private volatile boolean durable = true;

    private LocalPostgres(DevCertificateAuthority ca, Binaries.Postgres binaries, ServerUser serverUser,
                          ServerDirectory directory) {
        this.ca = ca;
        this.binaries = binaries;
        this.serverUser = serverUser;
        this.directory = directory;
        this.dataDirectory = directory.resolve("data");
        this.socketDirectory = directory.resolve("socket");
        this.tlsDirectory = directory.resolve("tls");
        this.caBundleFile = tlsDirectory.resolve("ca.crt");
        byte[] secret = new byte[18];
        new SecureRandom().nextBytes(secret);
        this.keyStorePassword = HexFormat.of().formatHex(secret);
        this.lifecycle = new ServerLifecycle("PostgreSQL", directory, this::stopServer);
    }

    /**
     * Starts configuring a server whose certificates come from {@code ca}.
     *
     * @param ca issues the server certificate and the client certificates of the roles
     * @return the builder
     */
    public static Builder builder(DevCertificateAuthority ca) {
        return new Builder(ca);
    }

    /** The host name to connect to: {@code localhost}, which the server certificate names. */
    public String host() {
        return HOST;
    }

    /** The TCP port, on {@code 127.0.0.1} only. */
    public int port() {
        return port;
    }

    /** The CA that issued the server certificate and issues the roles' client certificates. */
    public DevCertificateAuthority certificateAuthority() {
        return ca;
    }

    /** The PEM file with the CA's root certificate, for {@code sslrootcert}. */
    public Path caBundleFile() {
        return caBundleFile;
    }

    /**
     * A JDBC URL for {@code database} that verifies the server fully: {@code sslmode=verify-full}
     * and {@code sslrootcert} pointing at {@link #caBundleFile()}. It carries no client
     * credentials; add {@link #connectionProperties(String)} or your own SSL setup.
     *
     * @param database the database name
     * @return the URL
     */
    public String jdbcUrl(String database) {
        Objects.requireNonNull(database, "database");
        return "jdbc:postgresql://" + HOST + ":" + port + "/" + urlEncode(database)
                + "?sslmode=verify-full&sslrootcert=" + urlEncode(caBundleFile.toString());
    }

    /**
     * pgjdbc connection properties that log in as {@code role} with its client certificate
     * ({@link #clientCertificate(String)}). Use them with {@link #jdbcUrl(String)}.
     *
     * @param role the role to log in as; it must exist ({@link #createRole(String)})
     * @return a fresh, mutable copy of the properties
     * @see #connectionProperties(String, IssuedCertificate)
     */
    public Properties connectionProperties(String role) {
        return connectionProperties(role, clientCertificate(role));
    }

    /**
     * pgjdbc connection properties that log in as {@code role} presenting {@code certificate}:
     * {@code user}, {@code sslkey} pointing at a PKCS#12 file (mode 0600, under the alias
     * {@code user}, which is the only one pgjdbc reads) and {@code sslpassword}. Handy for proving
     * that a wrong certificate is refused. The properties hold a key store password: do not log them.
     *
     * @param role the role to log in as
     * @param certificate the client certificate (and key) to present
     * @return a fresh, mutable copy of the properties
     */
    public Properties connectionProperties(String role, IssuedCertificate certificate) {
        Names.check("role", role);
        Objects.requireNonNull(certificate, "certificate");
        String fileName = role + "-" + certificate.certificate().getSerialNumber().toString(16) + ".p12";
        // pgjdbc's PKCS12KeyManager reads the entry named "user" and no other.
        Path keyStore = clientKeyStores.computeIfAbsent(fileName, name -> certificate.writePkcs12(
                directory.resolve("clients").resolve(name), keyStorePassword.toCharArray(), "user"));
        Properties properties = new Properties();
        properties.setProperty("user", role);
        properties.setProperty("sslkey", keyStore.toString());
        properties.setProperty("sslpassword", keyStorePassword);
        return properties;
    }

    /**
     * Opens a pgjdbc connection to {@code database} as {@code role}, over TLS with
     * {@code sslmode=verify-full} and the role's client certificate.
     *
     * @param database the database to connect to
     * @param role the role to log in as
     * @return an open connection; the caller closes it
     * @throws SQLException if the server refuses the connection
     */
    public Connection connect(String database, String role) throws SQLException {
        return DriverManager.getConnection(jdbcUrl(database), connectionProperties(role));
    }

    /**
     * The client certificate for {@code role}: issued once by the CA for
     * {@code spiffe://<trust-domain>/<role>}, which is also its CN (the default {@code pg_ident.conf}
     * maps it to the role), then reused.
     *
     * @param role the role name
     * @return the certificate with its chain and private key
     */
    public IssuedCertificate clientCertificate(String role) {
        Names.check("role", role);
        return clientCertificates.computeIfAbsent(role, r -> ca.leaf(r).client().issue());
    }

    /**
     * Creates a login role with no special privileges (no superuser, no CREATEDB, no CREATEROLE,
     * no BYPASSRLS). It can log in with {@link #clientCertificate(String)} only.
     *
     * @param name the role name; letters, digits, {@code _ . -}
     * @throws TestkitException if the role exists already
     */
    public void createRole(String name) {
        Names.check("role", name);
        executeAsSuperuser("CREATE ROLE " + Names.quoted(name)
                + " LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS");
    }

    /**
     * Creates a database owned by {@code owner} and revokes the default {@code CONNECT} and
     * {@code TEMPORARY} privileges from {@code PUBLIC}: only the owner (and roles it is granted
     * to explicitly) may connect.
     *
     * @param name the database name; letters, digits, {@code _ . -}
     * @param owner an existing role
     * @throws TestkitException if the database exists or the owner does not
     */
    public void createDatabase(String name, String owner) {
        Names.check("database", name);
        Names.check("role", owner);
        executeAsSuperuser("CREATE DATABASE " + Names.quoted(name) + " OWNER " + Names.quoted(owner) + ";\n"
                + "REVOKE ALL ON DATABASE " + Names.quoted(name) + " FROM PUBLIC;");
    }

    /**
     * Runs SQL as the bootstrap superuser in the {@code postgres} database.
     *
     * @param sql the statements
     * @return the rows printed, as {@link #executeAsSuperuser(String, String)} returns them
     * @throws TestkitException with psql's error message if a statement fails
     */
    public String executeAsSuperuser(String sql) {
        return executeAsSuperuser("postgres", sql);
    }

    /**
     * Runs SQL (one or more statements, each in its own transaction unless the SQL says otherwise)
     * as the bootstrap superuser, through the psql client over the server's private Unix socket; the
     * TCP listener never sees a superuser. Stops at the first error.
     *
     * @param database the database to run in
     * @param sql the statements
     * @return the rows the statements printed, one per line, columns separated by {@code |};
     *     empty if none
     * @throws TestkitException with psql's error message if a statement fails
     */
    public String executeAsSuperuser(String database, String sql) {
        Objects.requireNonNull(database, "database");
        Objects.requireNonNull(sql, "sql");
        checkOpen();
        Commands.Result result = Commands.run(serverUser.command(List.of(binaries.psql().toString(),
                        "--no-psqlrc", "--quiet", "--no-align", "--tuples-only", "--set", "ON_ERROR_STOP=1",
                        "--host", socketDirectory.toString(), "--port", Integer.toString(port),
                        "--username", serverUser.name(), "--dbname", database, "--file", "-")),
                directory.path(), Map.of("PGAPPNAME", "settler-testkit"), sql, COMMAND_TIMEOUT);
        if (!result.succeeded()) {
            throw new TestkitException(TestkitException.Reason.COMMAND_FAILED,
                    "SQL as superuser in database '" + database + "' failed: " + result.stderr().strip());
        }
        String out = result.stdout();
        return out.endsWith("\n") ? out.substring(0, out.length() - 1) : out;
    }

    /**
     * Stops the server ({@code pg_ctl stop -m fast}: open connections are cut) and starts it again
     * on the same port with the same files, roles and data. After {@link #crash()} the new server
     * first recovers from its write-ahead log. Returns once the new server answers a query (not
     * when a {@code postmaster.pid} left by a crashed server says "ready").
     *
     * @throws TestkitException if the server does not come back within the startup timeout
     */
    public synchronized void restart() {
        checkOpen();
        long started = System.nanoTime();
        stopServer();
        launchOn(port, startupTimeout);
        LOG.info("PostgreSQL restarted on {}:{} in {} ms", HOST, port, (System.nanoTime() - started) / 1_000_000);
    }

    /**
     * Kills the server with SIGKILL, every process of it at once, as a crash (or the OOM killer)
     * would: nothing is flushed or shut down. {@link #restart()} brings it back; with the default
     * durable settings every transaction whose commit was acknowledged is still there.
     *
     * @throws TestkitException if a process survives SIGKILL
     */
    public synchronized void crash() {
        checkOpen();
        running().crash();
        LOG.info("PostgreSQL on {}:{} killed with SIGKILL", HOST, port);
    }

    /**
     * Freezes the server with SIGSTOP (the postmaster and every backend): connections stay open and
     * nothing answers, until the returned handle is closed (SIGCONT). For testing that clients bound
     * their waits; always close the handle, e.g. in try-with-resources.
     *
     * @return the frozen server; close it to resume
     */
    public synchronized FrozenServer freeze() {
        checkOpen();
        return running().freeze();
    }

    /** Whether the server runs with the durable settings (the default); see {@link Builder#nonDurable()}. */
    public boolean durable() {
        return durable;
    }

    /**
     * Replaces the TCP lines of {@code pg_hba.conf} and the whole {@code pg_ident.conf}, then
     * reloads the configuration and waits until new sessions use it. The lines that keep the
     * bootstrap superuser on the private Unix socket stay in front; anything a line does not match
     * is rejected at the end, as before. For testing generated server configuration.
     *
     * @param hostLines {@code pg_hba.conf} lines for TCP connections, e.g.
     *     {@code hostssl orders app 127.0.0.1/32 cert map=zerotrust}
     * @param identLines {@code pg_ident.conf} lines, e.g. {@code zerotrust "spiffe://example.org/app" app}
     * @throws TestkitException if the files cannot be written or the server does not reload
     */
    public synchronized void replaceAuthentication(List<String> hostLines, List<String> identLines) {
        Objects.requireNonNull(hostLines, "hostLines");
        Objects.requireNonNull(identLines, "identLines");
        checkOpen();
        try {
            writeAuthentication(hostLines, identLines);
        } catch (IOException e) {
            throw new TestkitException(TestkitException.Reason.IO_FAILED,
                    "cannot rewrite pg_hba.conf / pg_ident.conf in " + dataDirectory, e);
        }
        String before = executeAsSuperuser("select pg_conf_load_time()");
        executeAsSuperuser("select pg_reload_conf()");
        for (int attempt = 0; attempt < 100; attempt++) {
            if (!executeAsSuperuser("select pg_conf_load_time()").equals(before)) {
                return;
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        throw new TestkitException(TestkitException.Reason.COMMAND_FAILED,
                "PostgreSQL did not reload its configuration; see " + logFile());
    }

    /**
     * Stops the server ({@code pg_ctl stop -m fast}, then a kill if it does not stop within 10
     * seconds) and deletes its directory. Idempotent.
     */
    @Override
    public void close() {
        lifecycle.close();
    }

    /** Names the endpoint; never credentials. */
    @Override
    public String toString() {
        return "LocalPostgres[" + HOST + ":" + port + ", " + directory.path() + "]";
    }

    /** The server's private directory (for the testkit's own tests). */
    Path directory() {
        return directory.path();
    }

    /** The server's log (for the testkit's own tests). */
    Path logFile() {
        return directory.resolve("postgres.log");
    }

    /** The bootstrap superuser, which is also the server's OS user (for the testkit's own tests). */
    String superuser() {
        return serverUser.name();
    }

    /** The postmaster's process (for the testkit's own tests). */
    ProcessHandle process() {
        return running().handle();
    }

    /** The server process: set before the factory methods hand an instance out. */
    private ServerProcess running() {
        ServerProcess current = server;
        if (current == null) {
            throw new IllegalStateException("the server was never started");
        }
        return current;
    }

    private void stopServer() {
        ServerProcess running = server;
        if (running == null || !running.isAlive()) {
            return;
        }
        try {
            Commands.Result result = Commands.run(serverUser.command(List.of(binaries.pgCtl().toString(),
                            "stop", "--pgdata", dataDirectory.toString(), "--mode", "fast", "--wait",
                            "--timeout", Long.toString(STOP_TIMEOUT.toSeconds()))),
                    directory.path(), Map.of(), "", STOP_TIMEOUT.plusSeconds(5));
            if (!result.succeeded()) {
                LOG.warn("pg_ctl stop failed, killing PostgreSQL (pid {}): {}", running.pid(), result.output());
            }
        } catch (TestkitException e) {
            LOG.warn("pg_ctl stop failed, killing PostgreSQL (pid {}): {}", running.pid(), e.getMessage());
        }
        if (!running.awaitExit(Duration.ofSeconds(2))) {
            running.kill();
        }
    }

    private void checkOpen() {
        lifecycle.checkOpen(this);
    }

    private void initialize(List<String> hostLines, List<String> identLines) throws IOException {
        directory.createPrivateDirectory("tls");
        directory.createPrivateDirectory("socket");
        directory.createPrivateDirectory("data");
        IssuedCertificate serverCertificate = ca.leaf("postgres").server()
                .dnsNames(HOST).ipAddresses("127.0.0.1").issue();
        serverCertificate.writePem(tlsDirectory, "server");
        // The server user gets its three directories and may only pass through the top one.
        serverUser.allowTraversal(directory.path());
        serverUser.own(tlsDirectory);
        serverUser.own(socketDirectory);
        serverUser.own(dataDirectory);

        Commands.Result initdb = Commands.run(serverUser.command(List.of(binaries.initdb().toString(),
                        "--pgdata", dataDirectory.toString(), "--username", serverUser.name(),
                        "--encoding", "UTF8", "--locale", "C", "--auth-local", "peer", "--auth-host", "reject",
                        "--no-sync", "--no-instructions")),
                directory.path(), Map.of(), "", COMMAND_TIMEOUT);
        if (!initdb.succeeded()) {
            throw new TestkitException(TestkitException.Reason.START_FAILED,
                    "initdb failed with exit code " + initdb.exitCode() + ":\n" + initdb.output());
        }
        // Appending to and truncating files initdb created keeps their owner (the server user).
        Files.writeString(dataDirectory.resolve("postgresql.conf"), serverSettings(), StandardOpenOption.APPEND);
        writeAuthentication(hostLines, identLines);
        directory.createPrivateDirectory("clients");
    }

    private String serverSettings() {
        return String.join("\n",
                "",
                "# --- settler testkit: TLS 1.3 and client certificates only; small, for tests ---",
                "listen_addresses = '127.0.0.1'",
                "unix_socket_directories = '" + socketDirectory + "'",
                "unix_socket_permissions = 0700",
                "ssl = on",
                "ssl_cert_file = '" + tlsDirectory.resolve("server.crt") + "'",
                "ssl_key_file = '" + tlsDirectory.resolve("server.key") + "'",
                "ssl_ca_file = '" + caBundleFile + "'",
                "ssl_min_protocol_version = 'TLSv1.3'",
                "password_encryption = 'scram-sha-256'",
                "max_connections = 50",
                "shared_buffers = 16MB",
                durabilitySettings(),
                "wal_level = minimal",
                "max_wal_senders = 0",
                "autovacuum = off",
                "jit = off",
                "logging_collector = off",
                "log_destination = 'stderr'",
                "log_connections = on",
                "lc_messages = 'C'",
                "");
    }

    /**
     * Durable by default: a commit returns once its WAL is flushed to disk, so acknowledged
     * transactions survive a crash of the server (and of the machine). {@link Builder#nonDurable()}
     * trades that for speed.
     */
    private String durabilitySettings() {
        return durable
                ? String.join("\n", "fsync = on", "synchronous_commit = on", "full_page_writes = on")
                : String.join("\n", "# NOT DURABLE (Builder.nonDurable()): a crash loses acknowledged commits",
                        "fsync = off", "synchronous_commit = off", "full_page_writes = off");
    }

    /** Writes pg_hba.conf (superuser lines, {@code hostLines}, a final reject) and pg_ident.conf. */
    private void writeAuthentication(List<String> hostLines, List<String> identLines) throws IOException {
        Files.writeString(dataDirectory.resolve("pg_hba.conf"), superuserLines()
                        + String.join("\n", hostLines) + "\n" + rejectLines(),
                StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE);
        Files.writeString(dataDirectory.resolve("pg_ident.conf"), String.join("\n", identLines) + "\n",
                StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE);
    }

    private String superuserLines() {
        String superuser = serverUser.name();
        return String.join("\n",
                "# settler testkit: the superuser only over the private Unix socket; TCP only with TLS and",
                "# a client certificate whose CN is the role's SPIFFE ID; everything else is rejected.",
                "# TYPE   DATABASE  USER       ADDRESS        METHOD",
                "local    all       " + superuser + "   peer",
                "local    all       all        reject",
                "hostssl  all       " + superuser + "   127.0.0.1/32   reject",
                "hostssl  all       " + superuser + "   ::1/128        reject",
                "");
    }

    private static String rejectLines() {
        return String.join("\n",
                "host     all       all        0.0.0.0/0      reject",
                "host     all       all        ::/0           reject",
                "");
    }

    private void launch(Duration timeout) {
        for (int attempt = 1; ; attempt++) {
            int candidate = FreePorts.pick();
            // A failure to start is no port race; a failure to become ready is asked of this attempt's process.
            ServerProcess started = startOn(candidate);
            try {
                awaitReady(started, candidate, timeout);
                return;
            } catch (TestkitException e) {
                if (attempt < PORT_ATTEMPTS && started.lostPortRace()) {
                    LOG.debug("Port {} was taken before PostgreSQL could bind it; trying another", candidate);
                    continue;
                }
                throw e;
            }
        }
    }

    /** Starts the postmaster on {@code candidate} and waits until it answers a query. */
    private void launchOn(int candidate, Duration timeout) {
        awaitReady(startOn(candidate), candidate, timeout);
    }

    private ServerProcess startOn(int candidate) {
        port = candidate;
        ServerProcess started = ServerProcess.start("PostgreSQL", serverUser.command(List.of(
                        binaries.postgres().toString(), "-D", dataDirectory.toString(),
                        "-p", Integer.toString(candidate))), binaries.postgres(),
                directory, directory.resolve("postgres.log"), Map.of());
        server = started;
        return started;
    }

    private void awaitReady(ServerProcess started, int candidate, Duration timeout) {
        started.awaitReady(timeout, () -> readyAccordingTo(started, candidate) && answersQueries());
    }

    /**
     * postmaster.pid was written by {@code started} (not left behind by a crashed server, whose file
     * also says "ready"), says the server is ready (the way pg_ctl tells) and listens on our port.
     */
    private boolean readyAccordingTo(ServerProcess started, int expectedPort) throws IOException {
        Path pidFile = dataDirectory.resolve("postmaster.pid");
        if (!Files.exists(pidFile)) {
            return false;
        }
        List<String> lines = Files.readAllLines(pidFile, StandardCharsets.US_ASCII);
        return lines.size() >= 8 && lines.get(0).trim().equals(Long.toString(started.pid()))
                && lines.get(3).trim().equals(Integer.toString(expectedPort))
                && lines.get(7).trim().equals("ready");
    }

    /** One real round trip: {@code select 1} through psql (throws while the server cannot answer). */
    private boolean answersQueries() {
        return executeAsSuperuser("select 1").equals("1");
    }

    private static String urlEncode(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8);
    }

    /** Configures and starts a {@link LocalPostgres}. */
    public static final class Builder {
        private final DevCertificateAuthority ca;
        private Duration startupTimeout = Duration.ofSeconds(60);
        private boolean durable = true;
        private List<String> hostLines = List.of(
                "hostssl  all       all        127.0.0.1/32   cert   map=" + DEFAULT_MAP,
                "hostssl  all       all        ::1/128        cert   map=" + DEFAULT_MAP);
        private List<String> identLines;

        private Builder(DevCertificateAuthority ca) {
            this.ca = Objects.requireNonNull(ca, "ca");
            // The CN is the whole SPIFFE ID: exactly spiffe://<trust-domain>/<role>, one segment, to <role>.
            this.identLines = List.of(DEFAULT_MAP + "  /^spiffe://" + ca.trustDomain().name().replace(".", "\\.")
                    + "/([A-Za-z0-9_.-]+)$  \\1");
        }

        /**
         * Starts the server with these {@code pg_hba.conf} TCP lines and {@code pg_ident.conf} lines
         * (e.g. rendered from a policy) from its first moment, instead of the default: any role,
         * by a client certificate whose CN is {@code spiffe://<trust-domain>/<role>}. The superuser
         * lines stay in front and a final reject at the end, as with {@link LocalPostgres#replaceAuthentication}.
         *
         * @param hostLines {@code pg_hba.conf} lines for TCP connections
         * @param identLines {@code pg_ident.conf} lines
         * @return this builder
         */
        public Builder authentication(List<String> hostLines, List<String> identLines) {
            this.hostLines = List.copyOf(hostLines);
            this.identLines = List.copyOf(identLines);
            return this;
        }

        /**
         * How long to wait for the server to accept connections (default 60 seconds).
         *
         * @param startupTimeout a positive duration
         * @return this builder
         */
        public Builder startupTimeout(Duration startupTimeout) {
            this.startupTimeout = Durations.requirePositive("startupTimeout", startupTimeout);
            return this;
        }

        /**
         * Gives up durability for speed: {@code fsync=off}, {@code synchronous_commit=off},
         * {@code full_page_writes=off}. A commit then returns before its WAL is written, and a crash
         * ({@link LocalPostgres#crash()}) loses transactions the server already acknowledged. Only
         * for tests that never look at data across a crash; the default is durable.
         *
         * @return this builder
         */
        public Builder nonDurable() {
            this.durable = false;
            return this;
        }

        /**
         * Creates the cluster ({@code initdb}), configures TLS and {@code pg_hba.conf}, starts the
         * server and waits until it accepts connections.
         *
         * @return the running server; close it when done
         * @throws TestkitException if a binary is missing (naming the package to install) or the
         *     server does not start (with the tail of its log)
         */
        public LocalPostgres start() {
            long started = System.nanoTime();
            Binaries.Postgres binaries = Binaries.postgres();
            ServerUser serverUser = ServerUser.forPostgres();
            ServerDirectory directory = ServerDirectory.create("postgres");
            LocalPostgres postgres;
            try {
                postgres = new LocalPostgres(ca, binaries, serverUser, directory);
            } catch (RuntimeException e) {
                directory.delete(); // e.g. the JVM is shutting down and takes no more hooks
                throw e;
            }
            postgres.startupTimeout = startupTimeout;
            postgres.durable = durable;
            try {
                postgres.initialize(hostLines, identLines);
                postgres.launch(startupTimeout);
            } catch (IOException e) {
                postgres.close();
                throw new TestkitException(TestkitException.Reason.IO_FAILED,
                        "cannot write the PostgreSQL configuration in " + postgres.directory(), e);
            } catch (RuntimeException | Error e) {
                postgres.close();
                throw e;
            }
            LOG.info("PostgreSQL ({}, OS user {}) ready on {}:{} in {} ms; files in {}",
                    binaries.postgres(), serverUser.name(),
                    HOST, postgres.port, (System.nanoTime() - started) / 1_000_000, postgres.directory());
            return postgres;
        }
    }
}
