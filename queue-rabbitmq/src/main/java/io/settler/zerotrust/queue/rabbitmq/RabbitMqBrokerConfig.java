package io.settler.zerotrust.queue.rabbitmq;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.settler.zerotrust.audit.AuditLog;
import io.settler.zerotrust.credentials.CredentialSource;
import io.settler.zerotrust.identity.ServiceIdentity;
import io.settler.zerotrust.policy.Policy;
import io.settler.zerotrust.policy.ServicePolicy;
import java.nio.file.Path;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The RabbitMQ broker's side of a core {@link Policy}: a definitions file (a virtual host, one user
 * per service with a {@code queue:} scope, their permissions, and each queue's exchanges, quorum
 * queues and bindings), the TLS listener's {@code rabbitmq.conf}, the operator's steps, and a drift
 * check against a live broker.
 *
 * <pre>{@code
 * RabbitMqBrokerConfig broker = RabbitMqBrokerConfig.builder(policy).virtualHost("jobs").build();
 * Files.writeString(dir.resolve("definitions.json"), broker.definitionsJson());
 * Files.writeString(dir.resolve("rabbitmq.conf"), RabbitMqBrokerConfig.rabbitmqConf("5671",
 *         dir.resolve("ca.crt"), dir.resolve("rabbitmq-server.crt"), dir.resolve("rabbitmq-server.key"),
 *         dir.resolve("definitions.json")));
 * RabbitMqDrift drift = broker.drift(exportedDefinitions)            // rabbitmqctl export_definitions -
 *         .and(broker.probeListener(operatorCredentials, "rabbitmq.internal", 5671, Optional.empty()));
 * }</pre>
 *
 * <p>Users are named by their SPIFFE ID (the broker takes the user name from the client
 * certificate's URI SAN), have an empty {@code password_hash} (no password matches it, so only
 * EXTERNAL logs them in) and no tags. What each scope grants in the virtual host (everything else is
 * refused by the broker with 403 {@code ACCESS_REFUSED}; nobody gets {@code configure} but the
 * operator):
 * <ul>
 *   <li>{@code queue:<q>:publish}: {@code write} on the exchange {@code zt.publish.<q>}
 *       ({@link RabbitMqTransport#publishExchange}) only: not on {@code amq.default}, so no other
 *       queue, not even the dead-letter queue, can be reached;</li>
 *   <li>{@code queue:<q>:consume}: {@code read} on the quorum queue {@code <q>} (its group's) and
 *       {@code write} on the exchange {@code zt.dead-letter.<q>} ({@link RabbitMqTransport#deadLetterExchange})
 *       for its dead letters: a worker can publish into no job queue, and as no queue is named like an
 *       exchange it may write, it can bind nothing either;</li>
 *   <li>the operator ({@link Builder#operator}, default {@value #DEFAULT_OPERATOR}), not a service of
 *       the policy: {@code configure} on the queues and exchanges (for {@link RabbitMqTransport#declare}),
 *       {@code write} on the queues and {@code read} on the exchanges (to bind them) and {@code read}
 *       on the dead-letter queues; it publishes and consumes no job.</li>
 * </ul>
 * No topic permissions are rendered: the exchanges are direct, and a user has no topic permission
 * unless given one (a live one is drift). A consumer group is one queue, named after the queue.
 *
 * <p>Rendering is deterministic: users, permissions and topology sorted, the same bytes for the
 * same policy and settings. Immutable and thread-safe.
 */
public final class RabbitMqBrokerConfig {

    /** The operator's user, unless {@link Builder#operator} names another. */
    public static final String DEFAULT_OPERATOR = "queue-setup";
    /** The virtual host, unless {@link Builder#virtualHost} names another. */
    public static final String DEFAULT_VIRTUAL_HOST = "zerotrust";
    /** The broker's delivery limit per queue, unless {@link Builder#deliveryLimit} says otherwise. */
    public static final int DEFAULT_DELIVERY_LIMIT = 20;
    /** The RabbitMQ version the rendered files are written for and tested on. */
    public static final String RABBITMQ_VERSION = "RabbitMQ 3.10 or newer";

    private static final Pattern QUEUE_SCOPE = Pattern.compile("queue:([a-z0-9_.-]{1,128}):(publish|consume)");
    private static final Pattern NAME = Pattern.compile("[a-z0-9_.-]{1,128}");
    private static final String NOTHING = "^$";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Policy policy;
    private final String virtualHost;
    private final String operator;
    private final int deliveryLimit;
    private final AuditLog audit;
    private final SortedSet<String> queues;
    /** User name to its permission (configure, write, read), sorted by user. */
    private final Map<String, Permission> permissions;

    private RabbitMqBrokerConfig(Builder builder, SortedSet<String> queues, Map<String, Permission> permissions) {
        this.policy = builder.policy;
        this.virtualHost = builder.virtualHost;
        this.operator = builder.operatorIdentity();
        this.deliveryLimit = builder.deliveryLimit;
        this.audit = builder.audit;
        this.queues = Collections.unmodifiableSortedSet(new TreeSet<>(queues));
        this.permissions = Collections.unmodifiableMap(new TreeMap<>(permissions));
    }

    /** Starts rendering the broker configuration of {@code policy}. */
    public static Builder builder(Policy policy) {
        return new Builder(policy);
    }

    /**
     * A user's permission in the virtual host: three regular expressions over resource names.
     *
     * @param configure what it may declare and delete
     * @param write what it may publish to (an exchange) or bind (a queue)
     * @param read what it may consume (a queue) or bind from (an exchange)
     */
    public record Permission(String configure, String write, String read) {
        /** Checks the fields. */
        public Permission {
            Objects.requireNonNull(configure, "configure");
            Objects.requireNonNull(write, "write");
            Objects.requireNonNull(read, "read");
        }
    }

    /** The virtual host everything is rendered in. */
    public String virtualHost() {
        return virtualHost;
    }

    /** The queues of the policy ({@code queue:<q>:...} scopes), sorted. */
    public SortedSet<String> queues() {
        return queues;
    }

    /** The operator's user name, its SPIFFE ID. */
    public String operator() {
        return operator;
    }

    /** Every rendered user (its SPIFFE ID) with its permission, sorted by name. */
    public Map<String, Permission> permissions() {
        return permissions;
    }

    /** The rendered users (SPIFFE IDs), sorted. */
    public List<String> users() {
        return List.copyOf(permissions.keySet());
    }

    /**
     * The definitions file ({@code load_definitions}, or {@code rabbitmqctl import_definitions}):
     * users, the virtual host, permissions, no topic permissions, and per queue its two direct
     * exchanges, its quorum queue and dead-letter queue and their bindings. Pretty-printed, sorted, stable.
     */
    public String definitionsJson() {
        ObjectNode root = JSON.createObjectNode();
        ArrayNode users = root.putArray("users");
        permissions.keySet().forEach(user -> users.addObject().put("name", user).put("password_hash", "")
                .put("hashing_algorithm", "rabbit_password_hashing_sha256").putArray("tags"));
        root.putArray("vhosts").addObject().put("name", virtualHost);
        ArrayNode permissionList = root.putArray("permissions");
        permissions.forEach((user, permission) -> permissionList.addObject().put("user", user)
                .put("vhost", virtualHost).put("configure", permission.configure()).put("write", permission.write())
                .put("read", permission.read()));
        root.putArray("topic_permissions");
        ArrayNode queueList = root.putArray("queues");
        ArrayNode exchanges = root.putArray("exchanges");
        ArrayNode bindings = root.putArray("bindings");
        for (String queue : queues) {
            for (Map.Entry<String, Map<String, Object>> declared : new TreeMap<>(Map.of(queue,
                    RabbitMqTransport.queueArguments(queue, deliveryLimit), RabbitMqTransport.deadLetterQueue(queue),
                    RabbitMqTransport.deadLetterQueueArguments())).entrySet()) {
                ObjectNode node = queueList.addObject().put("name", declared.getKey()).put("vhost", virtualHost)
                        .put("durable", true).put("auto_delete", false);
                node.set("arguments", JSON.valueToTree(new TreeMap<>(declared.getValue())));
            }
            for (String exchange : new TreeSet<>(List.of(RabbitMqTransport.publishExchange(queue),
                    RabbitMqTransport.deadLetterExchange(queue)))) {
                exchanges.addObject().put("name", exchange).put("vhost", virtualHost).put("type", "direct")
                        .put("durable", true).put("auto_delete", false).put("internal", false).putObject("arguments");
            }
            for (String[] binding : List.of(new String[] {RabbitMqTransport.deadLetterExchange(queue),
                    RabbitMqTransport.deadLetterQueue(queue)}, new String[] {RabbitMqTransport.publishExchange(queue),
                    queue})) {
                bindings.addObject().put("source", binding[0]).put("vhost", virtualHost)
                        .put("destination", binding[1]).put("destination_type", "queue").put("routing_key", binding[1])
                        .putObject("arguments");
            }
        }
        try {
            DefaultPrettyPrinter printer = new DefaultPrettyPrinter()
                    .withObjectIndenter(new DefaultIndenter("  ", "\n"))
                    .withArrayIndenter(new DefaultIndenter("  ", "\n"));
            return JSON.writer(printer).writeValueAsString(root) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a tree of strings, numbers and booleans is always JSON", e);
        }
    }

    /**
     * The broker's {@code rabbitmq.conf}: no plaintext listener, one TLS listener with TLS 1.3 only,
     * {@code verify_peer} and {@code fail_if_no_peer_cert}, login by SASL EXTERNAL only with the user
     * name from the client certificate's URI SAN (the SPIFFE ID), and the definitions loaded at boot.
     *
     * @param listener the TLS listener, {@code <port>} or {@code <address>:<port>}, e.g. {@code 5671}
     * @param caBundle the CA certificates client certificates must chain to (PEM)
     * @param certificate the broker's certificate chain (PEM)
     * @param privateKey the broker's private key (PEM), readable by the broker's OS user only
     * @param definitions the rendered definitions file
     * @return the file's content
     */
    public static String rabbitmqConf(String listener, Path caBundle, Path certificate, Path privateKey,
            Path definitions) {
        if (!listener.matches("([0-9a-fA-F.:\\[\\]]+:)?[0-9]{1,5}")) {
            throw new IllegalArgumentException("the listener is <port> or <address>:<port>; got '" + listener + "'");
        }
        return String.join("\n", List.of(
                "# Rendered by Settler Zero Trust (RabbitMqBrokerConfig) for " + RABBITMQ_VERSION + ".",
                "# No plaintext AMQP: TLS 1.3 only, a client certificate required, login by that certificate only.",
                "listeners.tcp = none",
                "listeners.ssl.default = " + listener,
                "ssl_options.cacertfile = " + caBundle.toAbsolutePath(),
                "ssl_options.certfile = " + certificate.toAbsolutePath(),
                "ssl_options.keyfile = " + privateKey.toAbsolutePath(),
                "ssl_options.verify = verify_peer",
                "ssl_options.fail_if_no_peer_cert = true",
                "ssl_options.versions.1 = tlsv1.3",
                "# SASL EXTERNAL only (plugin rabbitmq_auth_mechanism_ssl): no PLAIN, so no password, no guest.",
                "auth_mechanisms.1 = EXTERNAL",
                "# The user name is the certificate's first URI SAN: its SPIFFE ID.",
                "ssl_cert_login_from = subject_alternative_name",
                "ssl_cert_login_san_type = uri",
                "ssl_cert_login_san_index = 0",
                "# Users, virtual host, permissions and topology from the policy; a node that loads definitions",
                "# creates no guest user and no / virtual host.",
                "load_definitions = " + definitions.toAbsolutePath())) + "\n";
    }

    /**
     * The operator's steps, in order ({@code SETUP.txt}): the plugin, the certificates, the
     * configuration, what an existing broker needs, the clients, and the drift check.
     *
     * @param certificates the directory with {@code ca.crt}, {@code rabbitmq-server.crt}/{@code .key},
     *     the operator's {@code <operator>.crt}/{@code .key} and {@code policy.json} (the operator puts
     *     them there)
     * @param rabbitmqConf the rendered {@code rabbitmq.conf}
     * @param definitions the rendered definitions file
     * @param port the TLS port of {@code rabbitmq.conf}
     * @return the text
     */
    public String setup(Path certificates, Path rabbitmqConf, Path definitions, int port) {
        Path absolute = certificates.toAbsolutePath();
        String conf = rabbitmqConf.toAbsolutePath().toString();
        String file = definitions.toAbsolutePath().toString();
        String operatorName = operator.substring(operator.lastIndexOf('/') + 1);
        return String.join("\n", List.of(
                RABBITMQ_VERSION + " for the policy of trust domain " + policy.trustDomain().name() + ",",
                "virtual host " + virtualHost + ", queues " + queues + ", users " + users() + ".",
                "Run every command in " + absolute + ", as root on the broker's machine.",
                "",
                "1. Enable the certificate login plugin and nothing else (no management listener):",
                "   rabbitmq-plugins --offline set rabbitmq_auth_mechanism_ssl",
                "2. Put ca.crt, rabbitmq-server.crt and rabbitmq-server.key here (the broker's certificate names",
                "   its host, or the SPIFFE ID your clients expect), readable by the OS user rabbitmq, the key by",
                "   it alone:",
                "   chown rabbitmq rabbitmq-server.key && chmod 0400 rabbitmq-server.key",
                "   The broker reads them, and the definitions file, where they are: rabbitmq must reach these",
                "   directories (or copy the files elsewhere and change the paths in rabbitmq.conf).",
                "3. TLS 1.3 on port " + port + ", EXTERNAL login only, the definitions loaded at every boot:",
                "   cp " + conf + " /etc/rabbitmq/rabbitmq.conf && systemctl restart rabbitmq-server",
                "   A broker that had data before keeps it: delete its default user and virtual host if present:",
                "   rabbitmqctl delete_user guest; rabbitmqctl delete_vhost /",
                "   After a policy change, render again, then: rabbitmqctl import_definitions " + file,
                "   (it adds and changes; delete what the policy no longer has: zt drift rabbitmq lists it).",
                "4. The queues, their dead-letter queues and exchanges exist now (from the definitions). Publishers",
                "   use RabbitMqTransport.sender (it writes to " + RabbitMqTransport.publishExchange("<queue>")
                        + "), workers RabbitMqTransport.source",
                "   (they read <queue> and write dead letters to " + RabbitMqTransport.deadLetterExchange("<queue>")
                        + "). RabbitMqTransport.declare, as " + operatorName + ", declares the same.",
                "5. Check the broker now and then: export its definitions as root, probe its listener as "
                        + operatorName + ":",
                "   rabbitmqctl export_definitions - > live-definitions.json",
                "   zt drift rabbitmq --policy policy.json --definitions live-definitions.json --vhost " + virtualHost
                        + " --host <broker host> --port " + port + " \\",
                "     --cert " + operatorName + ".crt --key " + operatorName + ".key --trust ca.crt",
                ""));
    }

    /**
     * Compares a live broker's definitions ({@code rabbitmqctl export_definitions -}, which needs no
     * administrator user of the broker, only the node's Erlang cookie) with the rendered ones.
     *
     * @param exportedDefinitions the exported JSON document
     * @param ignoredUsers users the policy does not manage (e.g. an administrator of your own)
     * @return what differs: users, permissions, topic permissions, virtual hosts, and the queues,
     *     exchanges and bindings of the virtual host
     * @throws IllegalArgumentException if it is not a definitions document
     */
    public RabbitMqDrift drift(String exportedDefinitions, String... ignoredUsers) {
        JsonNode live;
        try {
            live = JSON.readTree(Objects.requireNonNull(exportedDefinitions, "exportedDefinitions"));
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("the exported definitions are not JSON (" + e.getOriginalMessage()
                    + "): give the output of rabbitmqctl export_definitions -", e);
        }
        if (live == null || !live.isObject() || !live.has("users")) {
            throw new IllegalArgumentException("the exported definitions have no users: give the output of"
                    + " rabbitmqctl export_definitions -");
        }
        JsonNode expected;
        try {
            expected = JSON.readTree(definitionsJson());
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("the rendered definitions are JSON", e);
        }
        return DefinitionsComparison.compare(expected, live, virtualHost, List.of(ignoredUsers));
    }

    /**
     * Probes the live TLS listener as the operator, with the operator's certificate: a TLS 1.3
     * handshake that verifies the broker's identity and an EXTERNAL login into the virtual host must
     * work; the listener must offer EXTERNAL only, refuse a TLS 1.2 handshake and refuse a client
     * without a certificate. What it accepts but the rendered listener refuses is a
     * {@link RabbitMqDrift.Kind#LISTENER_WEAKER} finding.
     *
     * @param operatorCredentials the operator's certificate (its SPIFFE ID is {@link #operator()}) and the
     *     trust bundle the broker's certificate must chain to
     * @param host the broker's host
     * @param port its TLS port
     * @param expectedServer the name the broker's certificate must prove (default: {@code host})
     * @return the listener's findings
     * @throws RabbitMqException {@code CONNECTION_FAILED} (audited as {@code rabbitmq.connection_refused})
     *     if the operator cannot connect and log in at all: nothing could be checked
     */
    public RabbitMqDrift probeListener(CredentialSource operatorCredentials, String host, int port,
            Optional<String> expectedServer) {
        return new ListenerProbe(operatorCredentials, host, port, expectedServer, virtualHost, audit).probe();
    }

    @Override
    public String toString() {
        return "RabbitMqBrokerConfig[vhost=" + virtualHost + ", queues=" + queues + ", users=" + users() + "]";
    }

    /** {@code ^name$} or {@code ^(a|b)$} over literal names ({@code .} escaped), or {@code ^$} for none. */
    static String pattern(SortedSet<String> names) {
        if (names.isEmpty()) {
            return NOTHING;
        }
        List<String> quoted = names.stream().map(name -> name.replace(".", "\\.")).toList();
        return quoted.size() == 1 ? "^" + quoted.get(0) + "$" : "^(" + String.join("|", quoted) + ")$";
    }

    /** Configures a {@link RabbitMqBrokerConfig}. Not thread-safe. */
    public static final class Builder {
        private final Policy policy;
        private String virtualHost = DEFAULT_VIRTUAL_HOST;
        private String operatorService = DEFAULT_OPERATOR;
        private int deliveryLimit = DEFAULT_DELIVERY_LIMIT;
        private AuditLog audit = AuditLog.slf4j();

        private Builder(Policy policy) {
            this.policy = Objects.requireNonNull(policy, "policy");
        }

        /** The virtual host (default {@value #DEFAULT_VIRTUAL_HOST}); never {@code /}, RabbitMQ's default. */
        public Builder virtualHost(String virtualHost) {
            this.virtualHost = checkName("virtual host", virtualHost);
            return this;
        }

        /**
         * The operator: the service name of the certificate that runs the setup step
         * ({@link RabbitMqTransport#declare}) and the drift check's probe, in the policy's trust domain
         * (default {@value #DEFAULT_OPERATOR}). Not a service of the policy: no service gets configure.
         */
        public Builder operator(String service) {
            this.operatorService = checkName("operator", service);
            return this;
        }

        /**
         * The broker's own delivery limit of each queue ({@code x-delivery-limit}, default
         * {@value #DEFAULT_DELIVERY_LIMIT}): set it above the consumers' {@code maxDeliveries}.
         */
        public Builder deliveryLimit(int deliveryLimit) {
            if (deliveryLimit < 1) {
                throw new IllegalArgumentException("deliveryLimit is at least 1; got " + deliveryLimit);
            }
            this.deliveryLimit = deliveryLimit;
            return this;
        }

        /**
         * Where the listener probe's refusals go ({@code rabbitmq.connection_refused} when the operator
         * cannot log in, {@code peer.refused} for a broker that fails verification); default SLF4J.
         */
        public Builder auditLog(AuditLog audit) {
            this.audit = Objects.requireNonNull(audit, "audit");
            return this;
        }

        private String operatorIdentity() {
            return ServiceIdentity.of(policy.trustDomain(), operatorService).toString();
        }

        /**
         * The configuration.
         *
         * @throws IllegalArgumentException if no service has a {@code queue:} scope (nothing to
         *     render), or the operator is a service of the policy
         */
        public RabbitMqBrokerConfig build() {
            String operator = operatorIdentity();
            SortedSet<String> queues = new TreeSet<>();
            Map<String, Permission> permissions = new TreeMap<>();
            for (ServicePolicy service : policy.services()) {
                if (service.identity().toString().equals(operator)) {
                    throw new IllegalArgumentException("the operator " + operator + " is the service '"
                            + service.name() + "' of the policy; name an operator of its own (operator(...)), which"
                            + " no service's certificate logs in as");
                }
                SortedSet<String> write = new TreeSet<>();
                SortedSet<String> read = new TreeSet<>();
                for (String scope : service.scopes()) {
                    Matcher matcher = QUEUE_SCOPE.matcher(scope);
                    if (!matcher.matches()) {
                        continue;
                    }
                    String queue = matcher.group(1);
                    queues.add(queue);
                    if (matcher.group(2).equals("publish")) {
                        write.add(RabbitMqTransport.publishExchange(queue));
                    } else {
                        read.add(queue);
                        write.add(RabbitMqTransport.deadLetterExchange(queue));
                    }
                }
                if (!write.isEmpty() || !read.isEmpty()) {
                    permissions.put(service.identity().toString(), new Permission(NOTHING, pattern(write),
                            pattern(read)));
                }
            }
            if (queues.isEmpty()) {
                throw new IllegalArgumentException("no service of the policy has a queue:<name>:publish or"
                        + " queue:<name>:consume scope: there is nothing to render for RabbitMQ");
            }
            SortedSet<String> queueNames = queues.stream().flatMap(queue -> Stream.of(queue,
                    RabbitMqTransport.deadLetterQueue(queue))).collect(Collectors.toCollection(TreeSet::new));
            SortedSet<String> exchangeNames = queues.stream().flatMap(queue -> Stream.of(
                    RabbitMqTransport.publishExchange(queue), RabbitMqTransport.deadLetterExchange(queue)))
                    .collect(Collectors.toCollection(TreeSet::new));
            SortedSet<String> all = new TreeSet<>(queueNames);
            all.addAll(exchangeNames);
            SortedSet<String> operatorRead = new TreeSet<>(exchangeNames);
            queues.forEach(queue -> operatorRead.add(RabbitMqTransport.deadLetterQueue(queue)));
            permissions.put(operator, new Permission(pattern(all), pattern(queueNames), pattern(operatorRead)));
            return new RabbitMqBrokerConfig(this, queues, permissions);
        }

        private static String checkName(String what, String name) {
            Objects.requireNonNull(name, what);
            if (!NAME.matcher(name).matches()) {
                throw new IllegalArgumentException("the " + what + " is 1 to 128 lower-case letters, digits, '.', '-'"
                        + " or '_'; got '" + name + "'");
            }
            return name;
        }
    }
}
