package io.settler.zerotrust.redis;

import io.lettuce.core.api.sync.BaseRedisCommands;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.output.StatusOutput;
import io.lettuce.core.output.StringListOutput;
import io.lettuce.core.protocol.CommandArgs;
import io.lettuce.core.protocol.CommandType;
import io.settler.zerotrust.audit.AuditLog;
import io.settler.zerotrust.audit.LogSafe;
import io.settler.zerotrust.policy.Policy;
import io.settler.zerotrust.policy.ServicePolicy;
import io.settler.zerotrust.tls.ClientAuthOnlyTrust;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * The Redis side of a core {@link Policy}: an ACL file with one user per service that uses Redis,
 * the {@code tls-*} directives of a TLS-only server, and a drift check against a live server.
 *
 * <pre>{@code
 * RedisAcl acl = RedisAcl.builder(policy)
 *         .password("api", apiPassword)              // or passwordHash("api", sha256Hex)
 *         .password("worker", workerPassword)
 *         .build();
 * Files.writeString(Path.of("users.acl"), acl.aclFile());
 * Files.writeString(Path.of("tls.conf"), RedisAcl.tlsDirectives(6380, cert, key, ca, Path.of("users.acl")));
 * RedisAcl.Drift drift = acl.drift(operator.sync(), "operator"); // needs +acl|list +acl|cat
 * }</pre>
 *
 * <p>What each scope grants (everything else is denied; {@code default} is off):
 * <ul>
 *   <li>{@code queue:<q>:publish}: {@code XADD} to its own stream {@code queue:{<q>}:<service>}
 *       ({@link #streamKey}) only: no reads, no other publisher's stream;</li>
 *   <li>{@code queue:<q>:consume}: {@code XREADGROUP}, {@code XACK}, {@code XAUTOCLAIM},
 *       {@code XPENDING}, {@code XRANGE}, {@code XINFO STREAM|GROUPS} and {@code XTRIM} (of
 *       acknowledged entries) on
 *       {@code queue:{<q>}:*}; {@code XADD} only to the
 *       {@link #deadLetterKey dead-letter stream} (a selector), never to a publisher's stream;</li>
 *   <li>{@code redis:<ns>:read}: a named list of read commands ({@code GET}, {@code HGETALL}, ...)
 *       on {@code <ns>:*} (read-only key permission);</li>
 *   <li>{@code redis:<ns>:write}: those plus a named list of writes ({@code SET}, {@code DEL},
 *       {@code EXPIRE}, {@code HSET}, ...) on {@code <ns>:*}; never {@code KEYS}, {@code FLUSH*} or scripts;</li>
 *   <li>every user: {@code ACL WHOAMI}, {@code CLIENT INFO}, {@code PING}, {@code HELLO} and
 *       {@code AUTH}, which {@link HardenedRedis} needs to prove its connections; no Pub/Sub channels.</li>
 * </ul>
 * Services with none of these scopes get no user.
 *
 * <p>{@link Builder#groupSetupUser} adds one more user, for the operator's setup step that
 * {@code QueueConsumer.createGroup} of module queue (or {@code XGROUP CREATE}) performs:
 * {@code XGROUP CREATE} on the publishers' streams of the policy and nothing else (no reads, no
 * writes, no other group command, no other key), since no service's user may create groups.
 *
 * <p>Refused when built ({@link RedisTlsException} and a {@code redis.refused} audit event): a
 * service named {@code default} that uses Redis (the {@code default} line always comes from the
 * renderer, off), a password for {@code default}, and a {@code redis:<ns>:...} scope whose keys
 * would reach the queue's keys ({@code redis:queue:write} would be {@code ~queue:*}, every queue's
 * streams, groups and dead letters), and {@code redis:<other service>:write} (that service's
 * {@link RedisReplayGuard} records live there), all {@code RESERVED_NAME}. Key patterns are built from
 * literal names and refuse glob syntax, spaces and control characters ({@code INVALID_KEY}); no
 * user gets a Pub/Sub channel.
 *
 * <p>For Redis Cluster, {@link Builder#forCluster()} adds the commands the cluster client needs
 * ({@link #clusterClientRules()}) to every user and renders the {@code redis:<ns>:...} key patterns
 * as {@code {<ns>}:*}, for keys of {@link KeyNamespace#clustered(String)}. Immutable and thread-safe.
 */
public final class RedisAcl {

    private static final Pattern QUEUE_SCOPE = Pattern.compile("queue:([a-z0-9_.-]+):(publish|consume)");
    private static final Pattern REDIS_SCOPE = Pattern.compile("redis:([a-z0-9_-]+):(read|write)");
    private static final List<String> PROOF = List.of("+acl|whoami", "+client|info", "+ping", "+hello", "+auth");
    /**
     * What Lettuce's cluster client (7.x, against Redis 7.0) sends on its own, found by running it
     * against a real cluster with nothing else granted and reading {@code ACL LOG} on every node.
     * Only the first is needed to work; the others are granted so a well-behaved client never
     * shows up in {@code ACL LOG}, where every entry should mean "look at this".
     */
    private static final List<String> CLUSTER_CLIENT = List.of(
            // Required: the topology (slots, nodes, their addresses) at connect and every refresh.
            "+cluster|nodes",
            // Sent at every connect to learn the seed's node ID; CLUSTER NODES already shows it.
            "+cluster|myid",
            // Each topology refresh opens new connections named lettuce#ClusterTopologyRefresh;
            // names only the caller's own connection.
            "+client|setname",
            // Each refresh asks every node for connected_clients and master_repl_offset (to rank
            // nodes); refused, Lettuce works on, but logs a denial per node every refresh. Reveals
            // server statistics and paths, no keys or values (HELLO already gives the version).
            "+info",
            // While a slot migrates, Redis answers ASK and the client retries on the target after
            // ASKING; without it, keys of a migrating slot fail until the migration ends.
            "+asking");
    /** Explicit commands rather than categories: least privilege that a reviewer can read. */
    private static final List<String> READ = List.of("get", "mget", "exists", "type", "ttl", "pttl", "strlen",
            "getrange", "hget", "hmget", "hgetall", "hexists", "hlen", "hkeys", "hvals", "smembers", "sismember",
            "scard", "zrange", "zscore", "zcard", "zrank", "lrange", "llen", "lindex");
    private static final List<String> WRITE = List.of("set", "getdel", "getex", "del", "unlink", "expire", "pexpire",
            "expireat", "pexpireat", "persist", "incr", "incrby", "decr", "decrby", "hset", "hsetnx", "hdel",
            "hincrby", "sadd", "srem", "zadd", "zrem", "zincrby", "lpush", "rpush", "lpop", "rpop");
    /** Flags Redis adds to ACL LIST on its own; not part of what we render. */
    private static final Set<String> IMPLICIT = Set.of("sanitize-payload", "skip-sanitize-payload");

    private static final Pattern QUEUE_NAME = Pattern.compile("[a-z0-9_.-]{1,128}");
    /** The queue's keys: every stream, consumer group and dead letter ({@code queue:{<q>}:...}). */
    private static final String QUEUE_PREFIX = "queue:";
    /**
     * Key prefixes no {@code redis:<ns>:...} scope may reach: a namespace whose keys would include
     * one of them (or lie inside one) is refused, so {@code redis:queue:write} cannot become
     * {@code ~queue:*}, the power to delete every queue stream, group and dead letter.
     */
    private static final List<String> RESERVED_KEY_PREFIXES = List.of(QUEUE_PREFIX);
    /** Redis's own user: its line always comes from the renderer, never from a service. */
    private static final String DEFAULT_USER = "default";
    /**
     * Off and without a password, so nobody can log in as it; all commands, keys and channels, because
     * Redis 7.0 checks every {@code MULTI}/{@code EXEC} of an append-only file against {@code default}
     * while loading it: with less, the transactions it refuses ({@code -NOPERM ... EXEC}, e.g. consumer
     * group deliveries) silently vanish on a restart.
     */
    private static final String DEFAULT_RULES = "off ~* &* +@all";
    /** What a key pattern treats as glob syntax: never taken literally from a name. */
    private static final String GLOB = "*?[]\\";

    private final Map<String, String> lines;
    private final List<String> order;
    private final boolean cluster;

    private RedisAcl(Map<String, String> lines, boolean cluster) {
        this.lines = Map.copyOf(lines);
        this.order = List.copyOf(lines.keySet());
        this.cluster = cluster;
    }

    /** Starts rendering the ACL of {@code policy}. */
    public static Builder builder(Policy policy) {
        return new Builder(policy);
    }

    /** The stream a publisher writes to: {@code queue:{<queue>}:<service>} (one hash slot per queue). */
    public static String streamKey(String queue, String service) {
        return queueKeys(queue) + KeyNamespace.escape(service);
    }

    /**
     * The dead-letter stream of a queue: {@code queue:{<queue>}:%dead-letter}. No publisher's
     * {@link #streamKey} can be this key ({@code %} in a service name is escaped to {@code %25}).
     */
    public static String deadLetterKey(String queue) {
        return queueKeys(queue) + "%dead-letter";
    }

    /** What every key of a queue starts with: {@code queue:{<queue>}:}. */
    private static String queueKeys(String queue) {
        if (queue == null || !QUEUE_NAME.matcher(queue).matches()) {
            throw new RedisTlsException(RedisTlsException.Reason.INVALID_KEY, "a queue name is lower-case letters, "
                    + "digits, '.', '-' or '_'; got '" + LogSafe.text(String.valueOf(queue)) + "'");
        }
        return QUEUE_PREFIX + "{" + queue + "}:";
    }

    /**
     * The rules a Redis Cluster client needs besides its own commands, which
     * {@link Builder#forCluster()} grants every rendered user: {@code +cluster|nodes} (the
     * topology; required), {@code +cluster|myid}, {@code +client|setname} and {@code +info} (sent
     * by Lettuce at connect and on every topology refresh; refused, they only fill
     * {@code ACL LOG}), {@code +asking} (ASK redirects while a slot migrates). Add them to accounts
     * you write by hand, such as an operator's.
     */
    public static List<String> clusterClientRules() {
        return CLUSTER_CLIENT;
    }

    /** Whether the users were rendered for Redis Cluster ({@link Builder#forCluster()}). */
    public boolean forCluster() {
        return cluster;
    }

    /**
     * The ACL file: {@code user default off ...}, then one line per service, in policy order.
     * Nothing else: Redis 7.0 refuses to load an ACL file with a comment line.
     */
    public String aclFile() {
        StringBuilder file = new StringBuilder();
        for (String user : order) {
            file.append("user ").append(user).append(' ').append(lines.get(user)).append('\n');
        }
        return file.toString();
    }

    /** The users of the file (with {@code default}). */
    public List<String> users() {
        return order;
    }

    /** The rules of one user as {@code ACL SETUSER} takes them (password hash included). */
    public List<String> rules(String user) {
        String rules = lines.get(user);
        if (rules == null) {
            throw new RedisTlsException(RedisTlsException.Reason.INVALID_CONFIGURATION, "the rendered ACL has no user '"
                    + user + "'; it has " + order);
        }
        return tokens(rules);
    }

    /** Splits rules at spaces, keeping each selector {@code (...)} as one token, as ACL SETUSER takes it. */
    private static List<String> tokens(String rules) {
        List<String> tokens = new ArrayList<>();
        StringBuilder selector = null;
        for (String token : rules.trim().split("\\s+")) {
            if (selector == null && token.startsWith("(") && !token.endsWith(")")) {
                selector = new StringBuilder(token);
            } else if (selector != null) {
                selector.append(' ').append(token);
                if (token.endsWith(")")) {
                    tokens.add(selector.toString());
                    selector = null;
                }
            } else {
                tokens.add(token);
            }
        }
        if (selector != null) {
            tokens.add(selector.toString());
        }
        return List.copyOf(tokens);
    }

    /**
     * The {@code tls-ca-cert-file} of a Redis Cluster node, so that only nodes can join the cluster.
     * Redis 7 has one CA file for everything: clients, replication and the cluster bus. If it held
     * the services' CA as a plain certificate, any workload with a service certificate could run its
     * own {@code redis-server}, {@code CLUSTER MEET} the cluster over the bus and take slots over.
     * So the node CAs (which issue node certificates and nothing else) are trusted for everything,
     * and the services' CAs only for TLS clients (an OpenSSL {@code TRUSTED CERTIFICATE} with
     * {@code clientAuth} trusted and {@code serverAuth} rejected, {@link ClientAuthOnlyTrust}):
     * services still log in with their certificates, but no node completes a cluster bus or
     * replication connection to a server presenting a service certificate, and joining the cluster
     * needs exactly that (the node that learns of a new one connects to it). Node certificates need
     * both {@code serverAuth} and {@code clientAuth}, or no extended key usage.
     *
     * @param nodeCas the CA certificates that issue node certificates
     * @param clientCas the CA certificates of the services (the trust domain); none of the node CAs
     * @return the PEM file's content
     * @throws RedisTlsException {@code INVALID_CONFIGURATION} if either list is empty or they share a CA
     */
    public static String clusterCaBundle(List<X509Certificate> nodeCas, List<X509Certificate> clientCas) {
        if (nodeCas.isEmpty() || clientCas.isEmpty() || clientCas.stream().anyMatch(nodeCas::contains)) {
            throw new RedisTlsException(RedisTlsException.Reason.INVALID_CONFIGURATION, "a cluster CA bundle needs "
                    + "at least one node CA and one services' CA, and the node CA must be a CA of its own that signs "
                    + "node certificates only (a node CA that also signs services lets any service join the cluster)");
        }
        return ClientAuthOnlyTrust.bundle(nodeCas, clientCas);
    }

    /**
     * The {@code redis.conf} directives of a TLS-only server: no plaintext port, TLS 1.3 only,
     * client certificates required, TLS for replication and the cluster bus, and the ACL file.
     * Paths are written absolute and quoted, so a space, quote or backslash in one stays in it.
     *
     * @throws RedisTlsException {@code INVALID_CONFIGURATION} for a port outside 1..65535, or a
     *     path with a line break or another control character (it could start a directive of its own)
     */
    public static String tlsDirectives(int tlsPort, Path certificate, Path privateKey, Path caBundle, Path aclFile) {
        if (tlsPort < 1 || tlsPort > 65535) {
            throw new RedisTlsException(RedisTlsException.Reason.INVALID_CONFIGURATION,
                    "tlsPort must be between 1 and 65535; got " + tlsPort);
        }
        return String.join("\n",
                "# Rendered by Settler Zero Trust: TLS 1.3 with client certificates only, no plaintext port.",
                "port 0",
                "tls-port " + tlsPort,
                "tls-cert-file " + quoted(certificate),
                "tls-key-file " + quoted(privateKey),
                "tls-ca-cert-file " + quoted(caBundle),
                "tls-auth-clients yes",
                "tls-protocols \"TLSv1.3\"",
                "tls-ciphersuites TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256",
                "tls-prefer-server-ciphers yes",
                "tls-replication yes",
                "tls-cluster yes",
                "protected-mode yes",
                "aclfile " + quoted(aclFile),
                "");
    }

    /** A path as a {@code redis.conf} argument: absolute, in double quotes, {@code \} and {@code "} escaped. */
    private static String quoted(Path path) {
        String text = path.toAbsolutePath().toString();
        if (text.chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
            throw new RedisTlsException(RedisTlsException.Reason.INVALID_CONFIGURATION, "the path '"
                    + LogSafe.text(text) + "' has a line break or control character; redis.conf would read the"
                    + " rest as a directive of its own: rename the file");
        }
        return '"' + text.replace("\\", "\\\\").replace("\"", "\\\"") + '"';
    }

    /**
     * A key pattern for ACL rules: {@code permission + "~" + literal}, then {@code *} if
     * {@code wildcard}. The literal comes from names, so it must hold no glob syntax
     * ({@code * ? [ ] \}), spaces or control characters: it matches exactly what it says.
     */
    static String keyPattern(String permission, String literal, boolean wildcard) {
        for (int i = 0; i < literal.length(); i++) {
            char c = literal.charAt(i);
            if (c <= 0x20 || c >= 0x7f || GLOB.indexOf(c) >= 0) {
                throw new RedisTlsException(RedisTlsException.Reason.INVALID_KEY, "the key pattern '"
                        + LogSafe.text(literal) + "' has '" + LogSafe.character(c) + "', which an ACL key pattern"
                        + " reads as glob syntax or a separator; names in keys are lower-case letters, digits, '-',"
                        + " '_' and '.'");
            }
        }
        if (literal.isEmpty()) {
            throw new RedisTlsException(RedisTlsException.Reason.INVALID_KEY, "an empty key pattern literal");
        }
        return permission + "~" + literal + (wildcard ? "*" : "");
    }

    /**
     * Sets the rendered users on a live server at run time ({@code ACL SETUSER <user> reset ...},
     * every user but {@code default}, whose line only the file sets) and then runs {@code ACL SAVE},
     * so that the server's aclfile holds them and a restart keeps them: users set without
     * {@code ACL SAVE} are gone after a restart, and clients then fail with {@code WRONGPASS} on
     * reconnect. On Redis Cluster, call it for every node (ACLs are per node). Users the server has
     * and the file does not are left alone (see {@link #drift}).
     *
     * @param redis a connection allowed {@code ACL SETUSER} and {@code ACL SAVE} (an operator account)
     * @throws io.lettuce.core.RedisCommandExecutionException if the server refuses a user or cannot
     *     save its aclfile (e.g. it was started without one)
     */
    public void applyAndSave(BaseRedisCommands<String, String> redis) {
        for (String user : order) {
            if (!user.equals("default")) {
                CommandArgs<String, String> args =
                        new CommandArgs<>(StringCodec.UTF8).add("SETUSER").add(user).add("reset");
                rules(user).forEach(args::add);
                redis.dispatch(CommandType.ACL, new StatusOutput<>(StringCodec.UTF8), args);
            }
        }
        redis.dispatch(CommandType.ACL, new StatusOutput<>(StringCodec.UTF8),
                new CommandArgs<>(StringCodec.UTF8).add("SAVE"));
    }

    /**
     * Compares the users of a live server ({@code ACL LIST}) with this file, by effective
     * permissions: Redis rewrites rules into its own canonical form (categories with exceptions),
     * so categories on either side are expanded with {@code ACL CAT} before comparing.
     *
     * @param redis a connection allowed {@code ACL LIST} and {@code ACL CAT} (an operator account)
     * @param ignoredUsers users the file does not manage (e.g. that operator account)
     * @return what differs; {@link Drift#inSync()} when nothing does
     */
    public Drift drift(BaseRedisCommands<String, String> redis, String... ignoredUsers) {
        List<String> aclList = redis.dispatch(CommandType.ACL, new StringListOutput<>(StringCodec.UTF8),
                new CommandArgs<>(StringCodec.UTF8).add("LIST"));
        Map<String, Set<String>> categories = new HashMap<>();
        return drift(aclList, category -> categories.computeIfAbsent(category, name -> Set.copyOf(redis.dispatch(
                CommandType.ACL, new StringListOutput<>(StringCodec.UTF8),
                new CommandArgs<>(StringCodec.UTF8).add("CAT").add(name)))), ignoredUsers);
    }

    /**
     * Compares the lines of an {@code ACL LIST} reply with this file.
     *
     * @param aclList one {@code user <name> <rules...>} line per user
     * @param categoryMembers the commands of a category ({@code ACL CAT <category>}), e.g. {@code hash}
     * @param ignoredUsers users the file does not manage
     * @return what differs
     */
    public Drift drift(List<String> aclList, Function<String, Set<String>> categoryMembers, String... ignoredUsers) {
        Map<String, SortedSet<String>> live = new LinkedHashMap<>();
        for (String line : aclList) {
            List<String> tokens = tokens(line);
            if (tokens.size() >= 2 && tokens.get(0).equals("user")) {
                live.put(tokens.get(1), effective(tokens.subList(2, tokens.size()), categoryMembers));
            }
        }
        Set<String> ignored = Set.of(ignoredUsers);
        List<String> missing = new ArrayList<>();
        Map<String, String> changed = new LinkedHashMap<>();
        for (String user : order) {
            SortedSet<String> expected = effective(rules(user), categoryMembers);
            SortedSet<String> actual = live.get(user);
            if (actual == null) {
                missing.add(user);
            } else if (!expected.equals(actual)) {
                SortedSet<String> extra = new TreeSet<>(actual);
                extra.removeAll(expected);
                SortedSet<String> absent = new TreeSet<>(expected);
                absent.removeAll(actual);
                changed.put(user, "live has " + redactHashes(extra) + ", file has " + redactHashes(absent));
            }
        }
        List<String> unexpected = live.keySet().stream()
                .filter(user -> !lines.containsKey(user) && !ignored.contains(user)).toList();
        return new Drift(missing, unexpected, changed);
    }

    /**
     * What a user's rules amount to: its flags, passwords and key and channel patterns as they are,
     * and the commands it may run ({@code +cmd}) after applying each rule in order.
     */
    private static SortedSet<String> effective(List<String> tokens, Function<String, Set<String>> categoryMembers) {
        SortedSet<String> result = new TreeSet<>();
        Set<String> commands = new TreeSet<>();
        for (String token : tokens) {
            if (IMPLICIT.contains(token)) {
                continue;
            }
            if (token.startsWith("(")) { // a selector: compared as Redis prints it
                result.add(token);
                continue;
            }
            boolean command = (token.startsWith("+") || token.startsWith("-")) && token.length() > 1;
            if (!command) {
                result.add(token);
            } else if (token.equals("-@all")) {
                commands.clear();
            } else if (token.equals("+@all")) {
                commands.clear();
                commands.add("@all");
            } else if (token.startsWith("+@")) {
                categoryMembers.apply(token.substring(2)).forEach(name -> commands.add(name.toLowerCase(Locale.ROOT)));
            } else if (token.startsWith("-@")) {
                categoryMembers.apply(token.substring(2))
                        .forEach(name -> commands.remove(name.toLowerCase(Locale.ROOT)));
            } else if (token.startsWith("+")) {
                commands.add(token.substring(1).toLowerCase(Locale.ROOT));
            } else {
                commands.remove(token.substring(1).toLowerCase(Locale.ROOT));
            }
        }
        commands.forEach(name -> result.add("+" + name));
        return result;
    }

    private static Set<String> redactHashes(Set<String> tokens) {
        Set<String> out = new LinkedHashSet<>();
        for (String token : tokens) {
            out.add(token.startsWith("#") ? "#<password hash>" : token);
        }
        return out;
    }

    @Override
    public String toString() {
        return "RedisAcl[users=" + order + (cluster ? ", cluster" : "") + "]";
    }

    /**
     * How a live server differs from the rendered file.
     *
     * @param missingUsers users of the file the server does not have
     * @param unexpectedUsers users the server has and the file does not (less the ignored ones)
     * @param changedUsers users whose rules differ, with the tokens on each side (password hashes redacted)
     */
    public record Drift(List<String> missingUsers, List<String> unexpectedUsers, Map<String, String> changedUsers) {
        /** Copies. */
        public Drift {
            missingUsers = List.copyOf(missingUsers);
            unexpectedUsers = List.copyOf(unexpectedUsers);
            changedUsers = Map.copyOf(changedUsers);
        }

        /** Whether the server has exactly the file's users and rules. */
        public boolean inSync() {
            return missingUsers.isEmpty() && unexpectedUsers.isEmpty() && changedUsers.isEmpty();
        }
    }

    /** Builds a {@link RedisAcl}. Not thread-safe. */
    public static final class Builder {
        private static final Pattern SHA256_HEX = Pattern.compile("[0-9a-f]{64}");

        private final Policy policy;
        private final Map<String, String> passwordHashes = new LinkedHashMap<>();
        private @Nullable String setupUser;
        private @Nullable String setupHash;
        private boolean cluster;
        private AuditLog audit = AuditLog.slf4j();

        private Builder(Policy policy) {
            this.policy = Objects.requireNonNull(policy, "policy");
        }

        /**
         * Renders users for Redis Cluster clients ({@link HardenedRedisCluster}): every user also
         * gets the commands Lettuce's cluster client sends by itself ({@link #clusterClientRules()}),
         * and {@code redis:<ns>:read|write} cover {@code {<ns>}:*}, the keys of
         * {@link KeyNamespace#clustered(String)} (one hash slot per namespace), instead of
         * {@code <ns>:*}. Queue keys are the same either way ({@code queue:{<q>}:...}, one slot per
         * queue). Load the file on every node: ACLs are per node in Redis Cluster.
         *
         * @return this builder
         */
        public Builder forCluster() {
            this.cluster = true;
            return this;
        }

        /** Where refusals are recorded as {@code redis.refused} events (default {@link AuditLog#slf4j()}). */
        public Builder auditLog(AuditLog audit) {
            this.audit = Objects.requireNonNull(audit, "audit");
            return this;
        }

        /** The password of a service's user; only its SHA-256 is kept and written. */
        public Builder password(String service, char[] password) {
            return passwordHash(service, sha256(service, password));
        }

        /**
         * Adds the user that creates the queues' consumer groups, the setup step of
         * {@code QueueConsumer.createGroup} (module queue): {@code XGROUP CREATE} (also
         * with {@code MKSTREAM}) on each publisher's {@link #streamKey stream} of every queue of the
         * policy, and the connection checks of {@link HardenedRedis}; nothing else. No service user
         * gets that right: a worker that could create groups could also start one at {@code 0} and
         * so learn every job again. Run the setup as this user, then you may remove its line.
         *
         * @param user the user name, not a service of the policy and not {@code default}
         * @param password its password; only its SHA-256 is kept and written
         * @return this builder
         */
        public Builder groupSetupUser(String user, char[] password) {
            Objects.requireNonNull(user, "user");
            if (policy.service(user).isPresent()) {
                throw refuse(RedisTlsException.Reason.RESERVED_NAME, user, "the group setup user '" + user
                        + "' is also a service of the policy; give the setup user a name of its own");
            }
            checkUser(user);
            this.setupHash = sha256(user, password);
            this.setupUser = user;
            return this;
        }

        private String sha256(String user, char[] password) {
            Objects.requireNonNull(password, "password");
            if (password.length == 0) {
                throw refuse(RedisTlsException.Reason.PASSWORD_MISSING, user,
                        "the Redis password of '" + user + "' is empty");
            }
            ByteBuffer encoded = StandardCharsets.UTF_8.encode(CharBuffer.wrap(password));
            @SuppressWarnings("ByteBufferBackingArray") // only to wipe it all; the digest reads position..limit
            byte[] bytes = encoded.array();
            try {
                MessageDigest sha256 = MessageDigest.getInstance("SHA-256");
                sha256.update(encoded);
                return HexFormat.of().formatHex(sha256.digest());
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException("SHA-256 is missing from this JDK", e);
            } finally {
                Arrays.fill(bytes, (byte) 0);
            }
        }

        /** The SHA-256 (64 lower-case hex digits) of a service's password, as the ACL file stores it. */
        public Builder passwordHash(String service, String sha256Hex) {
            Objects.requireNonNull(service, "service");
            if (service.equals(DEFAULT_USER)) {
                throw refuse(RedisTlsException.Reason.RESERVED_NAME, service, "the 'default' user is always"
                        + " rendered off, without a password: give passwords to the services' own users");
            }
            if (sha256Hex == null || !SHA256_HEX.matcher(sha256Hex).matches()) {
                throw new RedisTlsException(RedisTlsException.Reason.INVALID_CONFIGURATION,
                        "a password hash is 64 lower-case hex digits (SHA-256); check the value given for '"
                                + service + "'");
            }
            passwordHashes.put(service, sha256Hex);
            return this;
        }

        /**
         * Renders the users.
         *
         * @throws RedisTlsException {@code PASSWORD_MISSING} naming each service that uses Redis and has no
         *     password; {@code RESERVED_NAME} for a service named {@code default} that uses Redis, or a
         *     {@code redis:<ns>:...} scope whose keys would reach the queue's keys ({@code queue:*}), or
         *     {@code redis:<ns>:write} where {@code <ns>} is another service of the policy;
         *     {@code INVALID_CONFIGURATION} for a service name that is not a plain ACL user name
         */
        public RedisAcl build() {
            Map<String, String> lines = new LinkedHashMap<>();
            lines.put(DEFAULT_USER, DEFAULT_RULES);
            List<String> withoutPassword = new ArrayList<>();
            for (ServicePolicy service : policy.services()) {
                Set<String> keys = new LinkedHashSet<>();
                Set<String> commands = new LinkedHashSet<>();
                Set<String> selectors = new LinkedHashSet<>();
                for (String scope : service.scopes()) {
                    grant(service.name(), scope, keys, commands, selectors);
                }
                if (commands.isEmpty()) {
                    continue;
                }
                checkUser(service.name());
                String hash = passwordHashes.get(service.name());
                if (hash == null) {
                    withoutPassword.add(service.name());
                    continue;
                }
                commands.addAll(PROOF);
                if (cluster) {
                    commands.addAll(CLUSTER_CLIENT);
                }
                List<String> rules = new ArrayList<>(List.of("on", "#" + hash));
                rules.addAll(keys);
                rules.add("resetchannels");
                rules.add("-@all");
                rules.addAll(commands);
                rules.addAll(selectors);
                lines.put(service.name(), String.join(" ", rules));
            }
            if (!withoutPassword.isEmpty()) {
                throw refuse(RedisTlsException.Reason.PASSWORD_MISSING, String.join(",", withoutPassword),
                        "services " + withoutPassword + " use Redis but have no password; give each password(...) or"
                                + " passwordHash(...)");
            }
            Set<String> unknown = new TreeSet<>(passwordHashes.keySet());
            unknown.removeAll(lines.keySet());
            if (!unknown.isEmpty()) {
                throw refuse(RedisTlsException.Reason.INVALID_CONFIGURATION, String.join(",", unknown),
                        "passwords given for " + unknown + ", which have no queue: or redis: scope in the policy");
            }
            if (setupUser != null && setupHash != null) {
                lines.put(setupUser, setupRules(setupUser, setupHash));
            }
            return new RedisAcl(lines, cluster);
        }

        /** The group setup user's rules: XGROUP CREATE on the publishers' streams, and the connection checks. */
        private String setupRules(String setupUser, String setupHash) {
            Set<String> keys = new LinkedHashSet<>();
            for (ServicePolicy service : policy.services()) {
                for (String scope : service.scopes()) {
                    Matcher queue = QUEUE_SCOPE.matcher(scope);
                    if (queue.matches() && queue.group(2).equals("publish")) {
                        keys.add(keyPattern("", streamKey(queue.group(1), service.name()), false));
                    }
                }
            }
            if (keys.isEmpty()) {
                throw refuse(RedisTlsException.Reason.INVALID_CONFIGURATION, setupUser, "no service of the policy"
                        + " publishes to a queue (queue:<q>:publish), so there is no consumer group to create;"
                        + " leave out groupSetupUser(...)");
            }
            List<String> rules = new ArrayList<>(List.of("on", "#" + setupHash));
            rules.addAll(keys);
            rules.add("resetchannels");
            rules.add("-@all");
            rules.add("+xgroup|create");
            rules.addAll(PROOF);
            if (cluster) {
                rules.addAll(CLUSTER_CLIENT);
            }
            return String.join(" ", rules);
        }

        private void grant(String service, String scope, Set<String> keys, Set<String> commands,
                           Set<String> selectors) {
            Matcher queue = QUEUE_SCOPE.matcher(scope);
            if (queue.matches()) {
                String name = queue.group(1);
                if (queue.group(2).equals("publish")) {
                    keys.add(keyPattern("", streamKey(name, service), false));
                    commands.add("+xadd");
                } else {
                    keys.add(keyPattern("", queueKeys(name), true));
                    // XRANGE: the consumer checks that entries no longer pending were recorded as handled.
                    commands.addAll(List.of("+xreadgroup", "+xack", "+xautoclaim", "+xpending",
                            "+xinfo|stream", "+xinfo|groups", "+xtrim", "+xrange"));
                    // A selector: XADD to the dead-letter stream only, never to a publisher's stream.
                    selectors.add("(" + keyPattern("", deadLetterKey(name), false) + " resetchannels -@all +xadd)");
                }
                return;
            }
            Matcher redis = REDIS_SCOPE.matcher(scope);
            if (redis.matches()) {
                String namespace = redis.group(1);
                checkNotReserved(service, scope, namespace);
                if (redis.group(2).equals("write")) {
                    checkOwnNamespace(service, scope, namespace);
                }
                String prefix = (cluster ? KeyNamespace.clustered(namespace) : KeyNamespace.of(namespace)).prefix();
                READ.forEach(command -> commands.add("+" + command));
                if (redis.group(2).equals("read")) {
                    keys.add(keyPattern("%R", prefix, true));
                } else {
                    keys.add(keyPattern("", prefix, true));
                    WRITE.forEach(command -> commands.add("+" + command));
                }
            }
        }

        /**
         * Refuses a namespace whose keys, in either rendering ({@code <ns>:} or {@code {<ns>}:}),
         * would overlap a reserved prefix: one is a prefix of the other.
         */
        private void checkNotReserved(String service, String scope, String namespace) {
            List<String> renderings = List.of(KeyNamespace.of(namespace).prefix(),
                    KeyNamespace.clustered(namespace).prefix());
            for (String prefix : renderings) {
                for (String reserved : RESERVED_KEY_PREFIXES) {
                    if (prefix.startsWith(reserved) || reserved.startsWith(prefix)) {
                        throw refuse(RedisTlsException.Reason.RESERVED_NAME, service, "scope '" + scope + "' of"
                                + " service '" + service + "' would grant the keys " + prefix + "*, which reach the"
                                + " reserved " + reserved + "* (every queue's streams, consumer groups and dead"
                                + " letters); give the namespace another name, and use queue:<q>:publish|consume"
                                + " scopes for queues");
                    }
                }
            }
        }

        /**
         * Refuses write access to the namespace of another service of the policy: it holds that
         * service's replay records ({@code <ns>:replay:*}, {@link RedisReplayGuard}), and deleting
         * them would open its one-time tokens to replay. A key pattern cannot leave them out.
         */
        private void checkOwnNamespace(String service, String scope, String namespace) {
            boolean another = !namespace.equals(service)
                    && policy.services().stream().anyMatch(other -> other.name().equals(namespace));
            if (another) {
                throw refuse(RedisTlsException.Reason.RESERVED_NAME, service, "scope '" + scope + "' of service '"
                        + service + "' would let it write the keys of service '" + namespace + "', the replay records"
                        + " of its RedisReplayGuard included, and so replay its one-time tokens; only '" + namespace
                        + "' may hold it (redis:" + namespace + ":read is allowed), or share a namespace named after"
                        + " no service");
            }
        }

        /** A service's ACL user name: never {@code default}, and a plain name (no spaces, globs, line breaks). */
        private void checkUser(String service) {
            if (service.equals(DEFAULT_USER)) {
                throw refuse(RedisTlsException.Reason.RESERVED_NAME, service, "a service named 'default' would"
                        + " replace Redis's default user (the one every unauthenticated connection is); rename"
                        + " the service");
            }
            if (!KeyNamespace.SERVICE.matcher(service).matches()) {
                throw refuse(RedisTlsException.Reason.INVALID_CONFIGURATION, service, "the service name '"
                        + LogSafe.text(service) + "' is no plain ACL user name: lower-case letters, digits, '-' or"
                        + " '_', starting with a letter, at most 63");
            }
        }

        /** Records a {@code redis.refused} event for the rendering and returns the exception to throw. */
        private RedisTlsException refuse(RedisTlsException.Reason reason, String service, String message) {
            return audit.event(RedisAudit.CONNECTION_REFUSED).field("server", "acl-rendering")
                    .field("user", LogSafe.text(service)).refused(new RedisTlsException(reason, message));
        }
    }
}
