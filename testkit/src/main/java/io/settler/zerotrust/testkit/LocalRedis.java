package io.settler.zerotrust.testkit;

import io.settler.zerotrust.pki.DevCertificateAuthority;
import io.settler.zerotrust.pki.IssuedCertificate;
import io.settler.zerotrust.tls.ClientAuthOnlyTrust;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import javax.net.ssl.SSLContext;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real Redis server for tests, on {@code 127.0.0.1} and a free port, that speaks TLS 1.3 only,
 * requires a client certificate from a {@link DevCertificateAuthority} and an ACL user with a
 * password.
 *
 * <pre>{@code
 * try (LocalRedis redis = LocalRedis.builder(ca)
 *         .user("worker", password, "~jobs:* +@read")
 *         .appendOnly(true)
 *         .start()) {
 *     // connect to redis.uri() with redis.clientCertificate("worker") and AUTH worker <password>
 * }
 * }</pre>
 *
 * <p>What the server enforces: no plaintext listener at all ({@code port 0}), only
 * {@code tls-port}; {@code tls-protocols TLSv1.3}; {@code tls-auth-clients yes}; the
 * {@code default} user is off and has no password, so every connection must {@code AUTH} as a
 * named user (its permissions are all, so Redis 7.0 can reload the append-only file). Redis 7.0
 * cannot map a client certificate to an ACL user, so any certificate from the CA passes the
 * handshake and the ACL password decides who the client is. The ACL file stores SHA-256 password
 * hashes only. An internal administrative user (reserved name {@value #ADMIN_USER}) with a random
 * password serves {@link #createUser}, {@link #executeAsAdmin} and readiness checks.
 *
 * <p>To prove a rendered configuration, start the server from it: {@link Builder#aclFile} takes
 * an ACL file as it is (its own {@code default} line included) and {@link Builder#tlsDirectives}
 * the TLS directives; Redis refuses to start if either is invalid.
 *
 * <p>With {@link Builder#appendOnly(boolean) appendOnly} the server writes an append-only file
 * with {@code appendfsync always}, so data survives {@link #restart()}; without it, a restart
 * starts empty. The server lives in {@code /tmp/settler-testkit-redis-*}; {@link #close()} stops it
 * and deletes the directory, a JVM shutdown hook does the same if the JVM exits first, and the next
 * start cleans up after a JVM that was killed.
 */
public final class LocalRedis implements AutoCloseable {

    /** The reserved name of the testkit's own administrative ACL user. */
    static final String ADMIN_USER = "testkit-admin";

    /**
     * Off and without a password (nobody can log in as it), but allowed everything: Redis 7.0
     * checks each {@code MULTI}/{@code EXEC} of the append-only file against {@code default} while
     * loading it, and drops those it refuses (consumer group deliveries among them).
     */
    static final String DEFAULT_USER_LINE = "user default off ~* &* +@all";

    private static final Logger LOG = LoggerFactory.getLogger(LocalRedis.class);
    private static final String HOST = "localhost";
    private static final int PORT_ATTEMPTS = 5;
    private static final Duration IO_TIMEOUT = Duration.ofSeconds(10);
    private static final Duration STOP_GRACE = Duration.ofSeconds(10);

    private final DevCertificateAuthority ca;
    private final Path redisServer;
    private final ServerDirectory directory;
    private final boolean appendOnly;
    private final boolean clusterNode;
    private final DevCertificateAuthority serverCa;
    private final String serverIdentity;
    private final Duration startupTimeout;
    private final @Nullable String renderedAclFile;
    private final @Nullable TlsDirectives renderedTls;
    private final String adminPassword;
    private final SSLContext adminContext;
    private final ConcurrentMap<String, String> passwords = new ConcurrentHashMap<>();
    private final Set<String> configuredUsers;
    private final ConcurrentMap<String, IssuedCertificate> clientCertificates = new ConcurrentHashMap<>();
    private final ServerLifecycle lifecycle;
    private volatile @Nullable ServerProcess server;
    private volatile int port;
    private volatile int clusterBusPort;

    private LocalRedis(Builder builder, Path redisServer, ServerDirectory directory) {
        this.ca = builder.ca;
        this.redisServer = redisServer;
        this.directory = directory;
        this.appendOnly = builder.appendOnly;
        this.clusterNode = builder.clusterNode;
        this.serverCa = builder.serverCa == null ? builder.ca : builder.serverCa;
        this.serverIdentity = builder.serverIdentity;
        this.startupTimeout = builder.startupTimeout;
        this.renderedAclFile = builder.aclFile;
        this.renderedTls = builder.tlsDirectives;
        this.adminPassword = ServerDirectory.randomSecret();
        this.adminContext = ClientTls.context(Optional.of(clientCertificate(ADMIN_USER)), serverCa.rootCertificate());
        this.passwords.putAll(builder.passwords);
        this.configuredUsers = Set.copyOf(builder.rules.keySet());
        this.lifecycle = new ServerLifecycle("Redis", directory, this::stopServer);
    }

    /**
     * Starts configuring a server whose certificates come from {@code ca}.
     *
     * @param ca issues the server certificate and the client certificates
     * @return the builder
     */
    public static Builder builder(DevCertificateAuthority ca) {
        return new Builder(ca);
    }

    /** The host name to connect to: {@code localhost}, which the server certificate names. */
    public String host() {
        return HOST;
    }

    /** The TLS port, on {@code 127.0.0.1} only; the same as {@link #tlsPort()} (there is no plaintext port). */
    public int port() {
        return port;
    }

    /** The TLS port, on {@code 127.0.0.1} only. */
    public int tlsPort() {
        return port;
    }

    /** {@code rediss://localhost:<port>}: the TLS scheme, no credentials. */
    public String uri() {
        return "rediss://" + HOST + ":" + port;
    }

    /** The CA that issued the server certificate and issues client certificates. */
    public DevCertificateAuthority certificateAuthority() {
        return ca;
    }

    /** The PEM file with the CA's root certificate. */
    public Path caBundleFile() {
        return directory.resolve("tls").resolve("ca.crt");
    }

    /** Whether the server keeps an append-only file (and so its data across {@link #restart()}). */
    public boolean appendOnly() {
        return appendOnly;
    }

    /**
     * A client certificate for {@code service}, issued once by the CA and then reused. Redis
     * accepts any certificate from the CA; the ACL user is chosen with {@code AUTH}.
     *
     * @param service the service name, which becomes the certificate's CN and SPIFFE path
     * @return the certificate with its chain and private key
     */
    public IssuedCertificate clientCertificate(String service) {
        Names.check("service", service);
        return clientCertificates.computeIfAbsent(service, s -> ca.leaf(s).client().issue());
    }

    /** The ACL users this server was given (without the testkit's own administrative user). */
    public Set<String> users() {
        Set<String> users = new TreeSet<>(configuredUsers);
        users.addAll(passwords.keySet());
        return Set.copyOf(users);
    }

    /**
     * The password of an ACL user created by {@link Builder#user} or {@link #createUser} (not
     * {@link Builder#hashedUser}).
     *
     * @param user the user name
     * @return the password
     * @throws IllegalArgumentException if there is no such user
     */
    public String password(String user) {
        String password = passwords.get(user);
        if (password == null) {
            throw new IllegalArgumentException("no Redis user '" + user + "'; known users: " + users());
        }
        return password;
    }

    /**
     * Creates (or replaces) an ACL user on the running server and saves the ACL file, so the user
     * survives {@link #restart()}.
     *
     * @param name the user name
     * @param password the user's password; stored on the server as a SHA-256 hash only
     * @param rules ACL rules, e.g. {@code "~jobs:* +@read"} ({@code on} and the password are added)
     * @throws TestkitException if the server refuses the rules
     */
    public void createUser(String name, String password, String rules) {
        checkUser(name, password, rules);
        List<String> command = new ArrayList<>(List.of("ACL", "SETUSER", name, "reset", "on", "#" + sha256(password)));
        command.addAll(splitRules(rules));
        executeAsAdmin(command.toArray(String[]::new));
        executeAsAdmin("ACL", "SAVE");
        passwords.put(name, password);
    }

    /**
     * Runs one command as the testkit's administrative user, over TLS with a client certificate.
     *
     * @param command the command and its arguments, e.g. {@code "CONFIG", "GET", "port"}
     * @return the reply as text: strings as they are, integers in decimal, arrays one element per
     *     line (nested arrays flattened), nil as the empty string
     * @throws TestkitException if the server replies with an error or cannot be reached
     */
    public String executeAsAdmin(String... command) {
        if (command.length == 0) {
            throw new IllegalArgumentException("no command");
        }
        checkOpen();
        Object reply;
        try (Resp connection = adminConnection()) {
            reply = connection.call(command);
        } catch (IOException e) {
            throw new TestkitException(TestkitException.Reason.COMMAND_FAILED,
                    "cannot run " + command[0] + " on " + this + ": " + e.getMessage(), e);
        }
        if (reply instanceof Resp.Error error) {
            // The arguments may hold secrets: name only the command.
            throw new TestkitException(TestkitException.Reason.COMMAND_FAILED,
                    "Redis refused " + command[0] + ": " + error.message());
        }
        return render(reply);
    }

    /**
     * Stops the server (SIGTERM, then SIGKILL after 10 seconds; nothing if {@link #kill()} ended it)
     * and starts it again on the same port with the same files. With
     * {@link Builder#appendOnly(boolean) appendOnly} the data is still there; without it the server
     * starts empty.
     *
     * @throws TestkitException if the server does not come back
     */
    public synchronized void restart() {
        checkOpen();
        long started = System.nanoTime();
        running().stop(STOP_GRACE);
        ServerProcess restarted = ServerProcess.start("Redis", command(port, clusterBusPort), redisServer, directory,
                directory.resolve("redis.log"), Map.of());
        server = restarted;
        restarted.awaitReady(startupTimeout, this::ping);
        LOG.info("Redis restarted on {}:{} in {} ms", HOST, port, (System.nanoTime() - started) / 1_000_000);
    }

    /**
     * Kills the server at once with SIGKILL, like a crash: no shutdown, no final write of the
     * append-only file beyond what {@code appendfsync always} already wrote. {@link #restart()}
     * starts it again on the same port with the same files.
     */
    public synchronized void kill() {
        checkOpen();
        running().kill();
        LOG.info("Redis on {}:{} killed (SIGKILL)", HOST, port);
    }

    /** Stops the server (SIGTERM, then SIGKILL after 10 seconds) and deletes its directory. Idempotent. */
    @Override
    public void close() {
        lifecycle.close();
    }

    /** Names the endpoint; never credentials. */
    @Override
    public String toString() {
        return "LocalRedis[" + HOST + ":" + port + ", " + directory.path() + "]";
    }

    /** The server's private directory (for the testkit's own tests). */
    Path directory() {
        return directory.path();
    }

    /** The server process (for the testkit's own tests). */
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

    /** The cluster bus port (TLS) of a cluster node; 0 when the server is not a cluster node. */
    public int clusterBusPort() {
        return clusterBusPort;
    }

    /**
     * Polls {@code ready} until it returns true, failing with the server's log tail after the
     * startup timeout (for {@link LocalRedisCluster}, which waits for the cluster to form).
     */
    void awaitReady(Callable<Boolean> ready) {
        checkOpen();
        running().awaitReady(startupTimeout, ready);
    }

    /** A fresh authenticated administrative connection. */
    Resp adminConnection() throws IOException {
        Resp connection = new Resp(ClientTls.connect(adminContext, HOST, port, IO_TIMEOUT));
        try {
            Object reply = connection.call("AUTH", ADMIN_USER, adminPassword);
            if (!"OK".equals(reply)) {
                throw new IOException("the administrative user was refused: " + reply);
            }
            return connection;
        } catch (IOException | RuntimeException e) {
            connection.close();
            throw e;
        }
    }

    private boolean ping() throws IOException {
        try (Resp connection = adminConnection()) {
            return "PONG".equals(connection.call("PING"));
        }
    }

    private synchronized void stopServer() {
        ServerProcess running = server;
        if (running != null) {
            running.stop(STOP_GRACE);
        }
    }

    private void checkOpen() {
        lifecycle.checkOpen(this);
    }

    private void initialize(Map<String, String> rules) throws IOException {
        Path tls = directory.createPrivateDirectory("tls");
        directory.createPrivateDirectory("data");
        // A cluster node also presents its certificate as a TLS client on the cluster bus.
        DevCertificateAuthority.LeafRequest leaf = serverCa.leaf(serverIdentity);
        (clusterNode ? leaf.serverAndClient() : leaf.server()).dnsNames(HOST).ipAddresses("127.0.0.1").issue()
                .writePem(tls, "server");
        if (serverCa != ca) {
            // The node CA for everything; the services' CA only for clients (LocalRedisCluster).
            ServerDirectory.writePrivate(tls.resolve("ca.crt"), ClientAuthOnlyTrust.bundle(
                    List.of(serverCa.rootCertificate()), List.of(ca.rootCertificate())));
        }

        StringBuilder acl = new StringBuilder();
        if (renderedAclFile != null) {
            acl.append(renderedAclFile); // as rendered: its own default line; only our administrator follows
            if (!renderedAclFile.endsWith("\n")) {
                acl.append('\n');
            }
        } else {
            acl.append(DEFAULT_USER_LINE).append('\n');
        }
        acl.append("user ").append(ADMIN_USER).append(" on #").append(sha256(adminPassword))
                .append(" ~* &* +@all\n");
        for (Map.Entry<String, String> user : rules.entrySet()) {
            acl.append("user ").append(user.getKey()).append(' ').append(String.join(" ", splitRules(user.getValue())))
                    .append('\n');
        }
        ServerDirectory.writePrivate(directory.resolve("users.acl"), acl.toString());
    }

    /**
     * Writes {@code redis.conf} for a start on {@code tlsPort}: the testkit's own TLS lines, or
     * those of {@link Builder#tlsDirectives} rendered for this port and these files.
     */
    private void writeConfiguration(int tlsPort) throws IOException {
        Path tls = directory.resolve("tls");
        Path aclFile = directory.resolve("users.acl");
        String tlsLines = renderedTls != null
                ? renderedTls.render(tlsPort, tls.resolve("server.crt"), tls.resolve("server.key"),
                        tls.resolve("ca.crt"), aclFile)
                : String.join("\n",
                        "# settler testkit: TLS 1.3 with client certificates only, no plaintext port, ACL users only",
                        "protected-mode yes",
                        "port 0",
                        "tls-cert-file " + tls.resolve("server.crt"),
                        "tls-key-file " + tls.resolve("server.key"),
                        "tls-ca-cert-file " + tls.resolve("ca.crt"),
                        "tls-auth-clients yes",
                        "tls-protocols \"TLSv1.3\"",
                        "tls-replication " + (clusterNode ? "yes" : "no"),
                        "tls-cluster " + (clusterNode ? "yes" : "no"),
                        "aclfile " + aclFile);
        ServerDirectory.writePrivate(directory.resolve("redis.conf"), String.join("\n",
                "# settler testkit: only on loopback, in its own directory",
                "bind 127.0.0.1",
                "cluster-enabled " + (clusterNode ? "yes" : "no"),
                "cluster-config-file " + directory.resolve("data").resolve("nodes.conf"),
                "cluster-require-full-coverage yes",
                "daemonize no",
                "supervised no",
                "loglevel notice",
                "logfile \"\"",
                "dir " + directory.resolve("data"),
                "save \"\"",
                "appendonly " + (appendOnly ? "yes" : "no"),
                "appendfsync always",
                tlsLines,
                ""));
    }

    private List<String> command(int tlsPort, int busPort) {
        List<String> command = new ArrayList<>(List.of(redisServer.toString(),
                directory.resolve("redis.conf").toString()));
        if (renderedTls == null) { // rendered directives carry the port themselves
            command.addAll(List.of("--tls-port", Integer.toString(tlsPort)));
        }
        if (clusterNode) {
            command.addAll(List.of("--cluster-port", Integer.toString(busPort)));
        }
        return List.copyOf(command);
    }

    private void launch() throws IOException {
        for (int attempt = 1; ; attempt++) {
            int candidate = FreePorts.pick();
            port = candidate;
            clusterBusPort = clusterNode ? FreePorts.pick() : 0;
            writeConfiguration(candidate);
            ServerProcess started = ServerProcess.start("Redis", command(candidate, clusterBusPort), redisServer,
                    directory, directory.resolve("redis.log"), Map.of());
            server = started;
            try {
                started.awaitReady(startupTimeout, this::ping);
                return;
            } catch (TestkitException e) {
                if (attempt < PORT_ATTEMPTS && started.lostPortRace()) {
                    LOG.debug("Port {} was taken before Redis could bind it; trying another", candidate);
                    continue;
                }
                throw e;
            }
        }
    }

    private static String render(@Nullable Object reply) {
        if (reply == null) {
            return "";
        }
        if (reply instanceof List<?> items) {
            List<String> lines = new ArrayList<>();
            for (Object item : items) {
                lines.add(render(item));
            }
            return String.join("\n", lines);
        }
        return reply.toString();
    }

    private static void checkUser(String name, String password, String rules) {
        Names.check("user", name);
        if (name.equals(ADMIN_USER) || name.equals("default")) {
            throw new IllegalArgumentException("the Redis user name '" + name + "' is reserved");
        }
        Objects.requireNonNull(password, "password");
        if (password.isEmpty()) {
            throw new IllegalArgumentException("a Redis user needs a non-empty password");
        }
        Objects.requireNonNull(rules, "rules");
        if (rules.chars().anyMatch(c -> c == '\n' || c == '\r' || c == 0)) {
            throw new IllegalArgumentException("ACL rules must be on one line");
        }
    }

    private static List<String> splitRules(String rules) {
        return Arrays.stream(rules.trim().split("\\s+")).filter(rule -> !rule.isEmpty()).toList();
    }

    static String sha256(String password) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(password.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JDK", e);
        }
    }

    /** Configures and starts a {@link LocalRedis}. */
    public static final class Builder {
        private final DevCertificateAuthority ca;
        private final Map<String, String> passwords = new LinkedHashMap<>();
        private final Map<String, String> rules = new LinkedHashMap<>();
        private boolean appendOnly;
        private boolean clusterNode;
        private @Nullable DevCertificateAuthority serverCa;
        private String serverIdentity = "redis";
        private Duration startupTimeout = Duration.ofSeconds(30);
        private @Nullable String aclFile;
        private @Nullable TlsDirectives tlsDirectives;

        private Builder(DevCertificateAuthority ca) {
            this.ca = Objects.requireNonNull(ca, "ca");
        }

        /**
         * Adds an ACL user.
         *
         * @param name the user name
         * @param password the password; the server stores its SHA-256 hash only
         * @param rules ACL rules, e.g. {@code "~jobs:* +@read"} ({@code on} and the password are added)
         * @return this builder
         */
        public Builder user(String name, String password, String rules) {
            checkUser(name, password, rules);
            checkNoAclFile();
            passwords.put(name, password);
            this.rules.put(name, "on #" + sha256(password) + " " + rules);
            return this;
        }

        /**
         * Adds an ACL user whose rules carry its password as a SHA-256 hash ({@code #<hex>}), such
         * as a line rendered from a policy: the server starts with it, and the testkit never sees
         * the password ({@link LocalRedis#password} does not know it).
         *
         * @param name the user name
         * @param rules the whole ACL rules, e.g. {@code "on #5e88... ~jobs:* +@read"}
         * @return this builder
         */
        public Builder hashedUser(String name, String rules) {
            checkUser(name, "hashed", rules);
            checkNoAclFile();
            if (splitRules(rules).stream().noneMatch(rule -> rule.matches("#[0-9a-f]{64}"))) {
                throw new IllegalArgumentException("the rules of Redis user '" + name
                        + "' carry no password hash (#<64 lower-case hex digits>); use user(name, password, rules)"
                        + " to give a password instead");
            }
            this.rules.put(name, rules);
            return this;
        }

        /**
         * Starts the server with this ACL file, exactly as given (e.g. rendered from a policy),
         * instead of the testkit's {@code default} line and users: Redis loads every line of it
         * at startup and refuses to start if one is invalid. The testkit appends only its own
         * administrative user, which it needs to check readiness and for {@link #executeAsAdmin}.
         *
         * @param content the file; it must turn the {@code default} user off ({@code user default off ...})
         *     and must not define the testkit's administrative user
         * @return this builder
         * @throws IllegalArgumentException if users were also given with {@link #user} or
         *     {@link #hashedUser}, or the file leaves {@code default} on or defines the administrator
         */
        public Builder aclFile(String content) {
            Objects.requireNonNull(content, "content");
            if (!rules.isEmpty()) {
                throw new IllegalArgumentException("give either aclFile(...) or user(...)/hashedUser(...), not both");
            }
            List<String> lines = content.lines().toList();
            if (lines.stream().noneMatch(line -> line.matches("user default off( .*)?"))) {
                throw new IllegalArgumentException("the ACL file must turn the default user off"
                        + " (a line 'user default off ...'); without one Redis creates it on, with no password");
            }
            if (lines.stream().anyMatch(line -> line.matches("user " + ADMIN_USER + "( .*)?"))) {
                throw new IllegalArgumentException("the ACL user name '" + ADMIN_USER + "' is reserved");
            }
            this.aclFile = content;
            return this;
        }

        /**
         * Starts the server with TLS directives rendered by {@code directives} (e.g. a method
         * reference to a renderer under test) instead of the testkit's own: it is called with the
         * port, the server certificate, key and CA files the testkit issued and the ACL file's
         * path, and its output replaces the testkit's {@code port}, {@code tls-*},
         * {@code protected-mode} and {@code aclfile} lines; the port is not repeated on the command
         * line. The rest ({@code bind 127.0.0.1}, the data directory, logging, persistence) stays.
         *
         * @param directives renders the directives
         * @return this builder
         */
        public Builder tlsDirectives(TlsDirectives directives) {
            this.tlsDirectives = Objects.requireNonNull(directives, "directives");
            return this;
        }

        /**
         * Keeps an append-only file with {@code appendfsync always}, so data survives
         * {@link LocalRedis#restart()} (default off).
         *
         * @param appendOnly whether to keep the append-only file
         * @return this builder
         */
        public Builder appendOnly(boolean appendOnly) {
            this.appendOnly = appendOnly;
            return this;
        }

        /**
         * Makes the server a Redis Cluster node ({@code cluster-enabled yes}) whose cluster bus and
         * replication also use TLS, not part of any cluster yet ({@link LocalRedisCluster} forms
         * one). Its certificate comes from {@code nodeCa} and carries
         * {@code spiffe://<trust-domain>/<identity>}, {@code localhost} and {@code 127.0.0.1}. When
         * {@code nodeCa} is not the builder's CA, the node trusts {@code nodeCa} for everything and
         * the builder's CA (which issues {@link LocalRedis#clientCertificate client certificates}) for TLS
         * clients only ({@link ClientAuthOnlyTrust}), so only {@code nodeCa}'s certificates can serve
         * the cluster bus or replication to it.
         *
         * @param nodeCa issues the node certificate; may be the builder's CA (e.g. for an intruder)
         * @param identity the service name in the node certificate's SPIFFE ID, e.g. {@code redis}
         * @return this builder
         */
        public Builder clusterNode(DevCertificateAuthority nodeCa, String identity) {
            this.serverCa = Objects.requireNonNull(nodeCa, "nodeCa");
            this.serverIdentity = Objects.requireNonNull(identity, "identity");
            this.clusterNode = true;
            return this;
        }

        /**
         * How long to wait for the server to answer (default 30 seconds).
         *
         * @param startupTimeout a positive duration
         * @return this builder
         */
        public Builder startupTimeout(Duration startupTimeout) {
            Objects.requireNonNull(startupTimeout, "startupTimeout");
            if (startupTimeout.isNegative() || startupTimeout.isZero()) {
                throw new IllegalArgumentException("startupTimeout must be positive; got " + startupTimeout);
            }
            this.startupTimeout = startupTimeout;
            return this;
        }

        private void checkNoAclFile() {
            if (aclFile != null) {
                throw new IllegalArgumentException("give either aclFile(...) or user(...)/hashedUser(...), not both");
            }
        }

        /**
         * Writes the TLS files, the ACL file and the configuration, starts {@code redis-server}
         * and waits until an authenticated TLS {@code PING} succeeds.
         *
         * @return the running server; close it when done
         * @throws TestkitException if redis-server is missing (naming the package to install) or
         *     does not start (with the tail of its log)
         */
        public LocalRedis start() {
            long started = System.nanoTime();
            Path binary = Binaries.redisServer();
            ServerDirectory directory = ServerDirectory.create("redis");
            LocalRedis redis;
            try {
                redis = new LocalRedis(this, binary, directory);
            } catch (RuntimeException e) {
                directory.delete(); // e.g. the JVM is shutting down and takes no more hooks
                throw e;
            }
            try {
                redis.initialize(new LinkedHashMap<>(rules));
                redis.launch();
            } catch (IOException e) {
                redis.close();
                throw new TestkitException(TestkitException.Reason.IO_FAILED,
                        "cannot write the Redis configuration in " + redis.directory(), e);
            } catch (RuntimeException | Error e) {
                redis.close();
                throw e;
            }
            LOG.info("Redis ({}) ready on {}:{} in {} ms; files in {}", binary, HOST, redis.port,
                    (System.nanoTime() - started) / 1_000_000, redis.directory());
            return redis;
        }
    }

    /** Renders the TLS directives of a server's {@code redis.conf}, for {@link Builder#tlsDirectives}. */
    @FunctionalInterface
    public interface TlsDirectives {
        /**
         * The directives.
         *
         * @param tlsPort the port to listen on (TLS)
         * @param certificate the server certificate chain (PEM)
         * @param privateKey its private key (PEM)
         * @param caBundle the CA that client certificates must chain to (PEM)
         * @param aclFile the ACL file to load
         * @return {@code redis.conf} lines, separated by line breaks
         */
        String render(int tlsPort, Path certificate, Path privateKey, Path caBundle, Path aclFile);
    }
}
