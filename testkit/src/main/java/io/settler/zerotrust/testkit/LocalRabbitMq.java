package io.settler.zerotrust.testkit;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.settler.zerotrust.identity.ServiceIdentity;
import io.settler.zerotrust.pki.DevCertificateAuthority;
import io.settler.zerotrust.pki.IssuedCertificate;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real RabbitMQ node for tests, on {@code 127.0.0.1} and a free port, that speaks AMQP 0-9-1 over
 * TLS 1.3 only, requires a client certificate from a {@link DevCertificateAuthority} and logs a
 * client in by that certificate alone: the user name is the certificate's SPIFFE ID
 * ({@code spiffe://<trust-domain>/<service>}, its URI SAN), and the users, virtual hosts and
 * permissions are those of the {@linkplain Builder#definitions definitions file} the node starts from.
 *
 * <pre>{@code
 * try (LocalRabbitMq rabbit = LocalRabbitMq.builder(ca).definitions(definitionsJson).start()) {
 *     // connect to rabbit.host():rabbit.tlsPort() over TLS 1.3 presenting rabbit.clientCertificate("worker"),
 *     // trusting rabbit.certificateAuthority(), with SASL EXTERNAL
 * }
 * }</pre>
 *
 * <p>What the node enforces ({@code rabbitmq.conf}): no plaintext listener ({@code listeners.tcp = none}),
 * one TLS listener on {@code 127.0.0.1} with {@code ssl_options.versions.1 = tlsv1.3},
 * {@code verify_peer} and {@code fail_if_no_peer_cert = true}; {@code auth_mechanisms.1 = EXTERNAL}
 * only (the {@code rabbitmq_auth_mechanism_ssl} plugin), the user name taken from the first URI SAN
 * ({@code ssl_cert_login_from = subject_alternative_name}, {@code ssl_cert_login_san_type = uri});
 * {@code load_definitions} with the given file. Because definitions are loaded, RabbitMQ 3.10 does
 * not create its default {@code guest} user nor the {@code /} virtual host (it logs "Will not seed
 * default virtual host and user: have definitions to load"); users in the file should have an empty
 * {@code password_hash}, which no password matches, so only their certificate logs them in.
 *
 * <p>The node runs from the distribution's scripts ({@code /usr/lib/rabbitmq/bin/rabbitmq-server},
 * which execs into the Erlang VM, so the process the testkit starts is the node) with everything
 * of its own: a node name {@code zt-<random>@localhost}, an Erlang cookie in its directory, an
 * Erlang distribution port and a private {@code epmd} on free loopback ports, and an empty
 * {@code rabbitmq-env.conf}, so neither the machine's epmd on 4369, nor a system broker, nor
 * {@code /etc/rabbitmq} is ever read or touched. When this JVM runs as root, the node, its epmd and
 * {@link #rabbitmqctl} run as the OS user {@code rabbitmq} that the Debian package creates. The node
 * lives in {@code /tmp/settler-testkit-rabbitmq-*} (its log, with what the node prints, is
 * {@code rabbitmq.log} there); {@link #close()} stops the node and its epmd and deletes the
 * directory, a JVM shutdown hook does the same if the JVM exits first, and the next start cleans up
 * after a JVM that was killed. Starting a node takes a few seconds (the Erlang VM boots slowly):
 * share one per test class.
 */
public final class LocalRabbitMq implements AutoCloseable {

    /** The reserved service name of the certificate the testkit's readiness probe presents. */
    static final String PROBE_SERVICE = "testkit-probe";

    private static final Logger LOG = LoggerFactory.getLogger(LocalRabbitMq.class);
    private static final String HOST = "localhost";
    private static final int PORT_ATTEMPTS = 5;
    private static final Duration IO_TIMEOUT = Duration.ofSeconds(10);
    /** A quorum queue member may take a few seconds to hand over leadership when its node stops. */
    private static final Duration STOP_GRACE = Duration.ofSeconds(30);
    private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(60);
    /** What the node logs before it exits because the TLS port or the distribution port was taken. */
    private static final String[] PORT_TAKEN = {"eaddrinuse", "dist_port_already_used"};
    /** The AMQP 0-9-1 protocol header a client sends first. */
    private static final byte[] AMQP_HEADER = {'A', 'M', 'Q', 'P', 0, 0, 9, 1};
    private static final int MAX_FRAME = 128 * 1024;
    /** What the node logs as it starts importing the definitions file, and once it is done (3.10). */
    private static final String DEFINITIONS_IMPORT_START = "Applying definitions from file";
    private static final String DEFINITIONS_IMPORT_END = "Ready to start client connection listeners";
    /** The plugins the node runs: SASL EXTERNAL, nothing else (no management listener). */
    private static final String ENABLED_PLUGINS = "[rabbitmq_auth_mechanism_ssl].\n";

    private final DevCertificateAuthority ca;
    private final Binaries.RabbitMq binaries;
    private final ServerUser serverUser;
    private final ServerDirectory directory;
    private final Path nodeDirectory;
    private final String nodeName;
    private final Epmd epmd;
    private final boolean ownsEpmd;
    private final String cookie;
    private final String definitions;
    private final List<String> clusterConfiguration;
    private final @Nullable ConfigurationFile configurationFile;
    private final Duration startupTimeout;
    private final SSLContext probeContext;
    private final ConcurrentMap<String, IssuedCertificate> clientCertificates = new ConcurrentHashMap<>();
    private final AtomicInteger imports = new AtomicInteger();
    private final ServerLifecycle lifecycle;
    private volatile @Nullable ServerProcess server;
    private volatile int tlsPort;
    private volatile int distributionPort;

    private LocalRabbitMq(Builder builder, Binaries.RabbitMq binaries, ServerUser serverUser,
                          ServerDirectory directory, Epmd epmd, boolean ownsEpmd) {
        this.ca = builder.ca;
        this.binaries = binaries;
        this.serverUser = serverUser;
        this.directory = directory;
        this.nodeDirectory = directory.resolve("node");
        this.nodeName = builder.nodeName != null ? builder.nodeName : newNodeName();
        this.epmd = epmd;
        this.ownsEpmd = ownsEpmd;
        this.cookie = builder.cookie != null ? builder.cookie : ServerDirectory.randomSecret();
        this.definitions = builder.definitions;
        this.clusterConfiguration = List.copyOf(builder.clusterConfiguration);
        this.configurationFile = builder.configurationFile;
        this.startupTimeout = builder.startupTimeout;
        this.probeContext = ClientTls.context(Optional.of(clientCertificate(PROBE_SERVICE)), ca.rootCertificate());
        this.lifecycle = new ServerLifecycle("RabbitMQ", directory, this::stopServer);
    }

    /**
     * Starts configuring a node whose certificates come from {@code ca}.
     *
     * @param ca issues the server certificate and the client certificates
     * @return the builder
     */
    public static Builder builder(DevCertificateAuthority ca) {
        return new Builder(ca);
    }

    /** The host name to connect to: {@code localhost}, which the server certificate names (with {@code 127.0.0.1}). */
    public String host() {
        return HOST;
    }

    /** The TLS port (AMQP 0-9-1 over TLS 1.3), on {@code 127.0.0.1} only; there is no plaintext port. */
    public int tlsPort() {
        return tlsPort;
    }

    /**
     * {@code amqps://localhost:<port>}: the TLS scheme, no credentials and no virtual host (a client
     * then asks for {@code /}, which exists only if the definitions create it).
     */
    public String uri() {
        return "amqps://" + HOST + ":" + tlsPort;
    }

    /** The Erlang node name, {@code zt-<random>@localhost}: what {@code rabbitmqctl -n} and cluster peers call it. */
    public String nodeName() {
        return nodeName;
    }

    /** The CA that issued the server certificate and issues client certificates. */
    public DevCertificateAuthority certificateAuthority() {
        return ca;
    }

    /** The PEM file with the CA's root certificate, the one the node trusts for client certificates. */
    public Path caBundleFile() {
        return nodeDirectory.resolve("tls").resolve("ca.crt");
    }

    /**
     * A client certificate for {@code service}, issued once by the CA and then reused. The node
     * logs its holder in as {@code spiffe://<trust-domain>/<service>} ({@link #userName}) if the
     * definitions have that user; any certificate from the CA passes the TLS handshake.
     *
     * @param service the service name, which becomes the certificate's CN and SPIFFE path
     * @return the certificate with its chain and private key
     */
    public IssuedCertificate clientCertificate(String service) {
        Names.check("service", service);
        return clientCertificates.computeIfAbsent(service, s -> ca.leaf(s).client().issue());
    }

    /**
     * The user name the node gives the holder of {@link #clientCertificate(String) clientCertificate(service)}:
     * its SPIFFE ID, {@code spiffe://<trust-domain>/<service>}, the name to put in the definitions.
     *
     * @param service the service name
     * @return the user name
     */
    public String userName(String service) {
        return ServiceIdentity.of(ca.trustDomain(), Names.check("service", service)).toString();
    }

    /**
     * Runs {@code rabbitmqctl} against this node (with its cookie, through its epmd, as the node's OS
     * user), e.g. {@code rabbitmqctl("list_users", "--formatter", "json")} or
     * {@code rabbitmqctl("list_permissions", "-p", "jobs")}; {@code -n <node> -q} come first.
     *
     * @param arguments the command and its arguments
     * @return what it printed on standard output
     * @throws TestkitException if it exits with an error (the message carries its output)
     */
    public String rabbitmqctl(String... arguments) {
        if (arguments.length == 0) {
            throw new IllegalArgumentException("no rabbitmqctl command");
        }
        checkOpen();
        List<String> command = new ArrayList<>(List.of(binaries.ctl().toString(), "-n", nodeName, "-q"));
        command.addAll(Arrays.asList(arguments));
        // In a directory the node's user may list: an Erlang VM lists it as it boots.
        Commands.Result result = Commands.run(serverUser.command(command), nodeDirectory, environment(), "",
                COMMAND_TIMEOUT);
        if (!result.succeeded()) {
            throw new TestkitException(TestkitException.Reason.COMMAND_FAILED, "rabbitmqctl " + arguments[0]
                    + " failed on " + this + " (exit code " + result.exitCode() + "): " + result.output());
        }
        return result.stdout();
    }

    /**
     * The node's users, virtual hosts, permissions, topic permissions, queues, exchanges, bindings
     * and policies as a definitions document ({@code rabbitmqctl export_definitions -}): what a drift
     * check compares with the rendered file.
     *
     * @return the JSON document
     */
    public String exportDefinitions() {
        return rabbitmqctl("export_definitions", "-");
    }

    /**
     * Imports a definitions document into the running node ({@code rabbitmqctl import_definitions}):
     * adds or replaces what it names and leaves the rest, e.g. to make a broker drift from its
     * rendered definitions. The node keeps what was imported in its database across restarts.
     *
     * @param json the definitions document
     * @throws TestkitException if the node refuses it
     */
    public void importDefinitions(String json) {
        Objects.requireNonNull(json, "json");
        checkOpen();
        Path file = nodeDirectory.resolve("import-" + imports.incrementAndGet() + ".json");
        try {
            ServerDirectory.writePrivate(file, json);
        } catch (IOException e) {
            throw new TestkitException(TestkitException.Reason.IO_FAILED, "cannot write " + file, e);
        }
        serverUser.own(file);
        rabbitmqctl("import_definitions", file.toString());
    }

    /** Whether the node process is running (not after {@link #stop()} or {@link #kill()}). */
    public boolean isRunning() {
        ServerProcess current = server;
        return current != null && current.isAlive();
    }

    /**
     * Stops the node gracefully (SIGTERM: the node closes its connections and leaves its cluster
     * peers knowing it stopped; SIGKILL after 30 seconds) and keeps its files and ports, so
     * {@link #start()} brings it back. Its epmd keeps running.
     */
    public synchronized void stop() {
        checkOpen();
        running().stop(STOP_GRACE);
        LOG.info("RabbitMQ node {} stopped", nodeName);
    }

    /**
     * Kills the node at once with SIGKILL, like a crash. {@link #start()} starts it again on the
     * same ports with the same files.
     */
    public synchronized void kill() {
        checkOpen();
        running().kill();
        LOG.info("RabbitMQ node {} killed (SIGKILL)", nodeName);
    }

    /**
     * Starts the node again after {@link #stop()} or {@link #kill()}, with the same name, ports and
     * files (a cluster member rejoins its cluster), and waits until it serves TLS clients.
     *
     * @throws IllegalStateException if it is running
     * @throws TestkitException if it does not come back in time
     */
    public synchronized void start() {
        checkOpen();
        if (isRunning()) {
            throw new IllegalStateException(this + " is running; stop() or kill() it first");
        }
        long started = System.nanoTime();
        ServerProcess restarted = launchProcess();
        restarted.awaitReady(startupTimeout, this::offersExternalLogin);
        checkDefinitionsImported();
        LOG.info("RabbitMQ node {} started again in {} ms", nodeName, (System.nanoTime() - started) / 1_000_000);
    }

    /** {@link #stop()}, then {@link #start()}. */
    public synchronized void restart() {
        stop();
        start();
    }

    /** Stops the node (and its own epmd) and deletes its directory. Idempotent. */
    @Override
    public void close() {
        lifecycle.close();
    }

    /** Names the node and endpoint; never the cookie. */
    @Override
    public String toString() {
        return "LocalRabbitMq[" + nodeName + ", " + HOST + ":" + tlsPort + ", " + directory.path() + "]";
    }

    /** The node's private directory (for the testkit's own tests). */
    Path directory() {
        return directory.path();
    }

    /** The node's log, where it says why it refused a client (for the testkit's own tests). */
    Path logFile() {
        return directory.resolve("rabbitmq.log");
    }

    /** The node process, the Erlang VM (for the testkit's own tests). */
    ProcessHandle process() {
        return running().handle();
    }

    /** The epmd process the node registers with (for the testkit's own tests). */
    ProcessHandle epmdProcess() {
        return epmd.process();
    }

    /** Polls {@code ready} until it returns true, failing with the node's log tail after the startup timeout. */
    void awaitReady(Callable<Boolean> ready) {
        checkOpen();
        running().awaitReady(startupTimeout, ready);
    }

    private ServerProcess running() {
        ServerProcess current = server;
        if (current == null) {
            throw new IllegalStateException("the node was never started");
        }
        return current;
    }

    private void checkOpen() {
        lifecycle.checkOpen(this);
    }

    private synchronized void stopServer() {
        ServerProcess running = server;
        try {
            if (running != null) {
                running.stop(STOP_GRACE);
            }
        } finally {
            if (ownsEpmd) {
                epmd.close();
            }
        }
    }

    /** Writes the TLS files, the definitions, the plugins file and the cookie, and hands them to the node's user. */
    private void initialize() throws IOException {
        directory.createPrivateDirectory("node");
        Path tls = Files.createDirectory(nodeDirectory.resolve("tls"));
        Files.createDirectory(nodeDirectory.resolve("data"));
        Files.createDirectory(nodeDirectory.resolve("log"));
        ca.leaf("rabbitmq").server().dnsNames(HOST).ipAddresses("127.0.0.1").issue().writePem(tls, "server");
        ServerDirectory.writePrivate(nodeDirectory.resolve("definitions.json"), definitions);
        ServerDirectory.writePrivate(nodeDirectory.resolve("enabled_plugins"), ENABLED_PLUGINS);
        // Read instead of /etc/rabbitmq/rabbitmq-env.conf, whose NODENAME and ERL_FLAGS are the system node's.
        ServerDirectory.writePrivate(nodeDirectory.resolve("rabbitmq-env.conf"), "");
        // Erlang reads $HOME/.erlang.cookie (HOME is the node directory) and refuses it unless owner-only.
        Path cookieFile = nodeDirectory.resolve(".erlang.cookie");
        ServerDirectory.writePrivate(cookieFile, cookie);
        Files.setPosixFilePermissions(cookieFile, PosixFilePermissions.fromString("r--------"));
        serverUser.allowTraversal(directory.path());
        serverUser.own(nodeDirectory);
    }

    /** {@code rabbitmq.conf} for a start on {@code port}: the given file's, or the testkit's own. */
    private String configuration(int port) {
        Path tls = nodeDirectory.resolve("tls");
        ConfigurationFile given = configurationFile;
        if (given != null) {
            String rendered = given.render("127.0.0.1:" + port, tls.resolve("ca.crt"), tls.resolve("server.crt"),
                    tls.resolve("server.key"), nodeDirectory.resolve("definitions.json"));
            if (clusterConfiguration.isEmpty()) {
                return rendered;
            }
            return rendered + (rendered.endsWith("\n") ? "" : "\n") + String.join("\n", clusterConfiguration) + "\n";
        }
        List<String> lines = new ArrayList<>(List.of(
                "# settler testkit: one TLS 1.3 listener on loopback, client certificates, login by certificate only",
                "listeners.tcp = none",
                "listeners.ssl.default = 127.0.0.1:" + port,
                "ssl_options.cacertfile = " + tls.resolve("ca.crt"),
                "ssl_options.certfile = " + tls.resolve("server.crt"),
                "ssl_options.keyfile = " + tls.resolve("server.key"),
                "ssl_options.verify = verify_peer",
                "ssl_options.fail_if_no_peer_cert = true",
                "ssl_options.versions.1 = tlsv1.3",
                "auth_mechanisms.1 = EXTERNAL",
                "ssl_cert_login_from = subject_alternative_name",
                "ssl_cert_login_san_type = uri",
                "ssl_cert_login_san_index = 0",
                "# the users, vhosts and permissions; with definitions to load, no guest user and no / vhost",
                "load_definitions = " + nodeDirectory.resolve("definitions.json")));
        lines.addAll(clusterConfiguration);
        return String.join("\n", lines) + "\n";
    }

    /** What the scripts, the node and rabbitmqctl need to find their files, their epmd and nothing else. */
    private Map<String, String> environment() {
        Map<String, String> environment = new LinkedHashMap<>();
        environment.put("HOME", nodeDirectory.toString()); // the cookie's directory, which the node's user owns
        environment.put("ERL_EPMD_PORT", Integer.toString(epmd.port()));
        environment.put("ERL_EPMD_ADDRESS", "127.0.0.1");
        environment.put("ERL_CRASH_DUMP", nodeDirectory.resolve("log").resolve("erl_crash.dump").toString());
        environment.put("RABBITMQ_NODENAME", nodeName);
        environment.put("RABBITMQ_CONF_ENV_FILE", nodeDirectory.resolve("rabbitmq-env.conf").toString());
        environment.put("RABBITMQ_CONFIG_FILE", nodeDirectory.resolve("rabbitmq.conf").toString());
        environment.put("RABBITMQ_ADVANCED_CONFIG_FILE", nodeDirectory.resolve("advanced.config").toString());
        environment.put("RABBITMQ_ENABLED_PLUGINS_FILE", nodeDirectory.resolve("enabled_plugins").toString());
        environment.put("RABBITMQ_MNESIA_BASE", nodeDirectory.resolve("data").toString());
        environment.put("RABBITMQ_LOG_BASE", nodeDirectory.resolve("log").toString());
        environment.put("RABBITMQ_LOGS", "-"); // to standard output, which goes to rabbitmq.log
        environment.put("RABBITMQ_DIST_PORT", Integer.toString(distributionPort));
        // The script then execs into the VM instead of waiting for it in a shell: the started process is the node.
        environment.put("RABBITMQ_ALLOW_INPUT", "true");
        // Every Erlang VM here uses the private epmd and never starts one: not the node, not rabbitmqctl, and
        // not the short-lived VM the node runs at boot to make sure an epmd runs (its epmd -daemon would
        // find ours, exit, and stay a zombie where nothing reaps orphans).
        environment.put("ERL_FLAGS", "-start_epmd false");
        environment.put("RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS",
                "-noinput -kernel inet_dist_use_interface {127,0,0,1}");
        environment.put("RABBITMQ_CTL_ERL_ARGS", "-kernel inet_dist_use_interface {127,0,0,1}");
        // rabbitmqctl's own distribution port: any free one (its default range is shared with the system's CLI).
        environment.put("RABBITMQ_CTL_DIST_PORT_MIN", "0");
        environment.put("RABBITMQ_CTL_DIST_PORT_MAX", "0");
        return environment;
    }

    private ServerProcess launchProcess() {
        ServerProcess started = ServerProcess.start("RabbitMQ",
                serverUser.command(List.of(binaries.server().toString())), binaries.vm(), directory, nodeDirectory,
                logFile(), environment());
        server = started;
        return started;
    }

    private void launch() throws IOException {
        for (int attempt = 1; ; attempt++) {
            int candidate = FreePorts.pick();
            tlsPort = candidate;
            distributionPort = FreePorts.pick();
            ServerDirectory.writePrivate(nodeDirectory.resolve("rabbitmq.conf"), configuration(candidate));
            serverUser.own(nodeDirectory.resolve("rabbitmq.conf"));
            ServerProcess started = launchProcess();
            try {
                started.awaitReady(startupTimeout, this::offersExternalLogin);
                checkDefinitionsImported();
                return;
            } catch (TestkitException e) {
                if (attempt < PORT_ATTEMPTS && started.exitedLogging(PORT_TAKEN)) {
                    LOG.debug("Port {} or {} was taken before RabbitMQ could bind it; trying others", candidate,
                            distributionPort);
                    continue;
                }
                throw e;
            }
        }
    }

    /**
     * Fails if the node logged an error, or a warning that it failed to do something, while importing
     * the definitions at this start: RabbitMQ 3.10 skips what it cannot import (a permission for a
     * virtual host that does not exist: "Failed to set permissions for ..."), logs a warning and
     * starts anyway, which would make a test pass or fail for the wrong reason. The import ends
     * before the listeners start, so once the node is ready its log says everything about it.
     */
    private void checkDefinitionsImported() {
        String log;
        try {
            log = Files.readString(logFile());
        } catch (IOException e) {
            throw new TestkitException(TestkitException.Reason.IO_FAILED, "cannot read " + logFile(), e);
        }
        int start = log.lastIndexOf(DEFINITIONS_IMPORT_START);
        if (start < 0) {
            return;
        }
        int end = log.indexOf(DEFINITIONS_IMPORT_END, start);
        List<String> problems = log.substring(start, end < 0 ? log.length() : end).lines()
                .filter(line -> line.contains("[error]")
                        || (line.contains("[warning]") && line.contains("Failed to")))
                .toList();
        if (!problems.isEmpty()) {
            throw new TestkitException(TestkitException.Reason.START_FAILED, "RabbitMQ node " + nodeName
                    + " did not import all of its definitions; fix the definitions file:\n"
                    + String.join("\n", problems));
        }
    }

    /**
     * Whether the node answers the AMQP protocol header over TLS 1.3 with a {@code Connection.Start}
     * that offers {@code EXTERNAL}: the listener is up and the plugin that logs in by certificate
     * runs. The probe's certificate passes the handshake; it never logs in.
     */
    private boolean offersExternalLogin() throws IOException {
        try (SSLSocket socket = ClientTls.connect(probeContext, HOST, tlsPort, IO_TIMEOUT)) {
            OutputStream out = socket.getOutputStream();
            out.write(AMQP_HEADER);
            out.flush();
            DataInputStream in = new DataInputStream(socket.getInputStream());
            int type = in.readUnsignedByte();
            int channel = in.readUnsignedShort();
            int size = in.readInt();
            if (type != 1 || channel != 0 || size < 0 || size > MAX_FRAME) {
                return false; // not a method frame on channel 0
            }
            byte[] payload = new byte[size];
            in.readFully(payload);
            ByteBuffer start = ByteBuffer.wrap(payload);
            int classId = start.getShort();
            int methodId = start.getShort();
            if (classId != 10 || methodId != 10) {
                return false; // not Connection.Start
            }
            start.position(start.position() + 2); // version-major, version-minor
            int serverProperties = start.getInt();
            start.position(start.position() + serverProperties); // skipped
            byte[] mechanisms = new byte[start.getInt()];
            start.get(mechanisms);
            return Arrays.asList(new String(mechanisms, StandardCharsets.US_ASCII).split(" ")).contains("EXTERNAL");
        }
    }

    private static String newNodeName() {
        return "zt-" + ServerDirectory.randomSecret().substring(0, 10) + "@" + HOST;
    }

    /**
     * Renders a node's {@code rabbitmq.conf} from its listener and files, e.g. a configuration rendered
     * from a policy ({@code RabbitMqBrokerConfig::rabbitmqConf} of module queue-rabbitmq).
     */
    @FunctionalInterface
    public interface ConfigurationFile {
        /**
         * The file's content.
         *
         * @param listener the TLS listener, {@code 127.0.0.1:<free port>}
         * @param caBundle the CA's root certificate (PEM)
         * @param certificate the node's certificate ({@code DNS:localhost}, {@code IP:127.0.0.1})
         * @param privateKey the node's private key
         * @param definitions the definitions file ({@link Builder#definitions})
         * @return {@code rabbitmq.conf}
         */
        String render(String listener, Path caBundle, Path certificate, Path privateKey, Path definitions);
    }

    /** Configures and starts a {@link LocalRabbitMq}. */
    public static final class Builder {
        private final DevCertificateAuthority ca;
        private String definitions = "{}";
        private Duration startupTimeout = Duration.ofSeconds(90);
        private @Nullable Epmd epmd;
        private @Nullable String nodeName;
        private @Nullable String cookie;
        private final List<String> clusterConfiguration = new ArrayList<>();
        private @Nullable ConfigurationFile configurationFile;

        private Builder(DevCertificateAuthority ca) {
            this.ca = Objects.requireNonNull(ca, "ca");
        }

        /**
         * The definitions file the node loads at every start ({@code load_definitions}), exactly as
         * given, e.g. rendered from a policy: {@code users} (with an empty {@code password_hash},
         * so only a certificate logs them in; the name is the SPIFFE ID, {@link LocalRabbitMq#userName}),
         * {@code vhosts}, {@code permissions}, {@code topic_permissions}, and queues, exchanges,
         * bindings or policies if wanted. Default: {@code {}}, no users and no virtual hosts.
         *
         * @param json the definitions document
         * @return this builder
         * @throws IllegalArgumentException if it is not a JSON object (RabbitMQ would ignore it and
         *     start without users); what is valid JSON but cannot be imported fails {@link #start()}
         */
        public Builder definitions(String json) {
            Objects.requireNonNull(json, "json");
            try {
                if (!new ObjectMapper().readTree(json).isObject()) {
                    throw new IllegalArgumentException(
                            "a definitions file is a JSON object ({\"users\": [...], ...}); got " + json);
                }
            } catch (JsonProcessingException e) {
                // RabbitMQ 3.10 would log nothing, import nothing and start without users.
                throw new IllegalArgumentException("the definitions are not valid JSON: " + e.getOriginalMessage(), e);
            }
            this.definitions = json;
            return this;
        }

        /**
         * Starts the node with this {@code rabbitmq.conf} instead of the testkit's own, e.g. one
         * rendered from a policy, to test what it enforces. It must keep what the testkit relies on:
         * a TLS 1.3 listener on the given address that offers {@code EXTERNAL} (how {@link #start()}
         * sees the node is ready), the given certificate files, and {@code load_definitions} of the
         * given file.
         *
         * @param file renders the file from the node's listener and files
         * @return this builder
         */
        public Builder configuration(ConfigurationFile file) {
            this.configurationFile = Objects.requireNonNull(file, "file");
            return this;
        }

        /**
         * How long to wait for the node to serve TLS clients (default 90 seconds: an Erlang VM boots
         * in several seconds, and far slower on a loaded 2-core machine).
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

        /**
         * Makes the node a member of a {@link LocalRabbitMqCluster}: it registers with the cluster's
         * epmd, shares its cookie, and joins {@code seed} on first boot (classic config peer
         * discovery) unless it is the seed itself.
         */
        Builder clusterMember(Epmd clusterEpmd, String clusterCookie, String name, Optional<String> seed) {
            this.epmd = Objects.requireNonNull(clusterEpmd, "clusterEpmd");
            this.cookie = Objects.requireNonNull(clusterCookie, "clusterCookie");
            this.nodeName = Objects.requireNonNull(name, "name");
            clusterConfiguration.clear();
            seed.ifPresent(peer -> clusterConfiguration.addAll(List.of(
                    "# join the seed on first boot; retry while it is still booting",
                    "cluster_formation.peer_discovery_backend = classic_config",
                    "cluster_formation.classic_config.nodes.1 = " + peer,
                    "cluster_formation.discovery_retry_limit = 240",
                    "cluster_formation.discovery_retry_interval = 500")));
            return this;
        }

        /**
         * Writes the TLS files, the definitions and the configuration, starts the node (and its own
         * epmd) and waits until it offers login by certificate over TLS 1.3.
         *
         * @return the running node; close it when done
         * @throws TestkitException if RabbitMQ or Erlang is missing (naming the package to install)
         *     or the node does not start (with the tail of its log)
         */
        public LocalRabbitMq start() {
            long started = System.nanoTime();
            Binaries.RabbitMq binaries = Binaries.rabbitMq();
            ServerUser user = ServerUser.forRabbitMq();
            Epmd shared = epmd;
            Epmd nodeEpmd = shared != null ? shared : Epmd.start(binaries.epmd(), user, startupTimeout);
            LocalRabbitMq node;
            try {
                ServerDirectory directory = ServerDirectory.create("rabbitmq");
                try {
                    node = new LocalRabbitMq(this, binaries, user, directory, nodeEpmd, shared == null);
                } catch (RuntimeException e) {
                    directory.delete(); // e.g. the JVM is shutting down and takes no more hooks
                    throw e;
                }
            } catch (RuntimeException e) {
                if (shared == null) {
                    nodeEpmd.close();
                }
                throw e;
            }
            try {
                node.initialize();
                node.launch();
            } catch (IOException e) {
                node.close();
                throw new TestkitException(TestkitException.Reason.IO_FAILED,
                        "cannot write the RabbitMQ configuration in " + node.directory(), e);
            } catch (RuntimeException | Error e) {
                node.close();
                throw e;
            }
            LOG.info("RabbitMQ node {} ready on {}:{} in {} ms; files in {}", node.nodeName, HOST, node.tlsPort,
                    (System.nanoTime() - started) / 1_000_000, node.directory());
            return node;
        }
    }
}
