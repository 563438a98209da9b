package io.settler.zerotrust.cli.render;

import io.settler.zerotrust.jdbc.PostgresServerConfig;
import io.settler.zerotrust.policy.Policy;
import io.settler.zerotrust.policy.ServicePolicy;
import io.settler.zerotrust.queue.rabbitmq.RabbitMqBrokerConfig;
import io.settler.zerotrust.redis.RedisAcl;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Renders the server configuration of a policy into a directory: what an operator puts on their
 * PostgreSQL and Redis servers so that they admit exactly what the policy says. The one place
 * that does it: {@code zt render}, {@code bin/demo --prepare} and the demo's loopback servers
 * ({@code LocalZone} in the examples) all call {@link #writeTo}.
 *
 * <pre>
 * &lt;dir&gt;/&lt;user&gt;.redis-password       a fresh random password per Redis user (0600)
 * &lt;dir&gt;/rendered/pg_hba.conf         hostssl ... cert lines for the database service's peers, then rejects
 * &lt;dir&gt;/rendered/pg_ident.conf       certificate CN (the SPIFFE ID) to role
 * &lt;dir&gt;/rendered/&lt;database service&gt;.sql  roles, GRANTs, forced row-level security on the tenant tables
 * &lt;dir&gt;/rendered/&lt;extra&gt;.sql          SQL you add ({@link Builder#sql}), e.g. a schema
 * &lt;dir&gt;/rendered/users.acl           one Redis user per service that uses Redis, and the group setup user
 * &lt;dir&gt;/rendered/redis.conf          a TLS-only server ({@link RedisAcl#tlsDirectives})
 * &lt;dir&gt;/rendered/SETUP.txt           the steps, in order
 * </pre>
 *
 * <p>RabbitMQ's files ({@code definitions.json}, {@code rabbitmq.conf}, {@code SETUP.txt}) come from
 * {@link #writeRabbitMq}, rendered by queue-rabbitmq's {@link RabbitMqBrokerConfig}.
 *
 * <p>The consumer groups of the queues are created by a Redis user of their own,
 * {@value #GROUP_SETUP_USER}, which may run {@code XGROUP CREATE} on the publishers' streams and
 * nothing else ({@link RedisAcl.Builder#groupSetupUser}): no service user may create groups, and
 * the operator needs no administrator account. {@code SETUP.txt} runs that step as this user.
 *
 * <p>{@link Builder#withoutRedis()} leaves the Redis files out ({@code zt render postgres}). The
 * drift check ({@code zt drift}) compares a live server with {@link #postgres()} and
 * {@link #redisAcl(Map)}, what {@link #writeTo} writes.
 *
 * <p>Refusals are the renderers' own, with messages saying what to fix:
 * {@link io.settler.zerotrust.jdbc.ServerConfigException} (PostgreSQL),
 * {@link io.settler.zerotrust.redis.RedisTlsException} (Redis) and {@link RenderException}
 * (files). Immutable; {@link #writeTo} may be called again (it writes new passwords).
 */
public final class ServerConfigRenderer {

    /** The Redis user that creates the queues' consumer groups, and nothing else. */
    public static final String GROUP_SETUP_USER = "queue-setup";
    /** The PostgreSQL version the rendered files and the drift check need (pg_ident_file_mappings). */
    public static final String POSTGRES_VERSION = "PostgreSQL 15 or newer";

    private static final Pattern PUBLISH = Pattern.compile("queue:([a-z0-9_.-]+):publish");
    private static final SecureRandom RANDOM = new SecureRandom();

    private final Policy policy;
    private final Optional<Database> database;
    private final List<String> tenantTables;
    private final Map<String, String> sql;
    private final String group;
    private final int redisPort;
    private final boolean redis;

    private ServerConfigRenderer(Builder builder) {
        this.policy = builder.policy;
        this.database = builder.database;
        this.tenantTables = List.copyOf(builder.tenantTables);
        this.sql = new LinkedHashMap<>(builder.sql);
        this.group = builder.group;
        this.redisPort = builder.redisPort;
        this.redis = builder.redis;
    }

    /** Starts a renderer of {@code policy}. */
    public static Builder builder(Policy policy) {
        return new Builder(policy);
    }

    /**
     * What {@link #writeTo} rendered, for servers started from it (e.g. on loopback).
     *
     * @param policy the policy rendered
     * @param acl the Redis users (with the group setup user if a service publishes to a queue), unless
     *     {@link Builder#withoutRedis()}
     * @param postgres PostgreSQL's configuration, if a database service was named
     */
    public record Rendered(Policy policy, Optional<RedisAcl> acl, Optional<PostgresServerConfig> postgres) {
    }

    /**
     * The Redis users that get a password: each service with a {@code redis:} or {@code queue:}
     * scope, in policy order, then {@value #GROUP_SETUP_USER} if a service publishes to a queue.
     */
    public List<String> redisUsers() {
        List<String> users = new ArrayList<>();
        for (ServicePolicy service : policy.services()) {
            if (service.scopes().stream().anyMatch(scope -> scope.startsWith("redis:") || scope.startsWith("queue:"))) {
                users.add(service.name());
            }
        }
        if (!publisherStreams().isEmpty()) {
            users.add(GROUP_SETUP_USER);
        }
        return List.copyOf(users);
    }

    /**
     * The Redis ACL with these passwords, as {@link #writeTo} renders it: every service of
     * {@link #redisUsers()} needs one; {@value #GROUP_SETUP_USER} is added if it has one.
     *
     * @param passwords user to password (not kept: only its SHA-256)
     * @return the ACL
     * @throws io.settler.zerotrust.redis.RedisTlsException {@code PASSWORD_MISSING} naming the users
     *     without one, or another refusal of {@link RedisAcl.Builder#build()}
     */
    public RedisAcl redisAcl(Map<String, char[]> passwords) {
        RedisAcl.Builder acl = RedisAcl.builder(policy);
        passwords.forEach((user, password) -> {
            if (user.equals(GROUP_SETUP_USER)) {
                acl.groupSetupUser(user, password);
            } else {
                acl.password(user, password);
            }
        });
        return acl.build();
    }

    /**
     * PostgreSQL's configuration for the database service, as {@link #writeTo} renders it.
     *
     * @return the configuration, or empty without {@link Builder#database}
     * @throws io.settler.zerotrust.jdbc.ServerConfigException if the policy cannot be rendered for it
     */
    public Optional<PostgresServerConfig> postgres() {
        return database.map(target -> {
            PostgresServerConfig.Builder config = PostgresServerConfig.builder(policy, target.service())
                    .database(target.name());
            tenantTables.forEach(config::tenantTable);
            return config.build();
        });
    }

    /**
     * The file {@link #writeTo} writes a Redis user's password to: {@code <directory>/<user>.redis-password}.
     *
     * @param directory the directory given to {@link #writeTo}
     * @param user a user of {@link #redisUsers()}
     * @return the file
     */
    public static Path passwordFile(Path directory, String user) {
        return directory.resolve(user + ".redis-password");
    }

    /**
     * Writes the files into {@code directory} (created with its parents if missing); the
     * certificate files named in {@code redis.conf} and {@code SETUP.txt}
     * ({@code ca.crt}, {@code redis-server.crt}/{@code .key}, {@code <database service>-server.crt}/{@code .key},
     * {@code queue-setup.crt}/{@code .key}) are the caller's to put there.
     *
     * @param directory where the files go
     * @param progress told what was written, e.g. {@code System.out::println}
     * @return the renderings, e.g. to start servers with
     * @throws RenderException {@code NOT_A_DIRECTORY} or {@code IO_FAILED}
     */
    public Rendered writeTo(Path directory, Consumer<String> progress) {
        Path rendered = directory.resolve("rendered");
        createDirectories(rendered);
        List<String> streams = publisherStreams();
        Map<String, char[]> passwords = new LinkedHashMap<>();
        if (redis) {
            redisUsers().forEach(user -> passwords.put(user, randomPassword()));
        }
        try {
            Optional<RedisAcl> renderedAcl = redis ? Optional.of(redisAcl(passwords)) : Optional.empty();
            Optional<PostgresServerConfig> postgres = postgres();
            for (Map.Entry<String, char[]> password : passwords.entrySet()) {
                writePrivate(passwordFile(directory, password.getKey()), new String(password.getValue()));
            }
            List<String> written = new ArrayList<>();
            if (postgres.isPresent() && database.isPresent()) {
                String service = database.get().service();
                write(rendered.resolve("pg_hba.conf"), String.join("\n", postgres.get().hbaLines()) + "\n");
                write(rendered.resolve("pg_ident.conf"), String.join("\n", postgres.get().identLines()) + "\n");
                write(rendered.resolve(service + ".sql"), postgres.get().sql());
                written.addAll(List.of("pg_hba.conf", "pg_ident.conf", service + ".sql"));
            }
            sql.forEach((file, content) -> write(rendered.resolve(file), content));
            written.addAll(sql.keySet());
            if (renderedAcl.isPresent()) {
                write(rendered.resolve("users.acl"), renderedAcl.get().aclFile());
                Path absolute = directory.toAbsolutePath();
                write(rendered.resolve("redis.conf"), RedisAcl.tlsDirectives(redisPort,
                        absolute.resolve("redis-server.crt"), absolute.resolve("redis-server.key"),
                        absolute.resolve("ca.crt"), absolute.resolve("rendered").resolve("users.acl")));
                written.addAll(List.of("users.acl", "redis.conf"));
            }
            write(rendered.resolve("SETUP.txt"), setup(directory, streams));
            written.add("SETUP.txt");
            progress.accept("rendered " + String.join(", ", written) + " from the policy (services "
                    + policy.services().stream().map(ServicePolicy::name).toList() + ") into " + rendered);
            return new Rendered(policy, renderedAcl, postgres);
        } finally {
            passwords.values().forEach(password -> Arrays.fill(password, '\0'));
        }
    }

    /**
     * Writes RabbitMQ's configuration of {@code broker} into {@code <directory>/rendered}:
     * {@code definitions.json}, {@code rabbitmq.conf} (a TLS 1.3 listener on {@code port} whose
     * certificate files are {@code <directory>/ca.crt} and {@code rabbitmq-server.crt}/{@code .key},
     * the caller's to put there) and {@code SETUP.txt}. Deterministic: the same policy and settings
     * write the same bytes.
     *
     * @param broker what to render, e.g. {@code RabbitMqBrokerConfig.builder(policy).build()}
     * @param directory where the files go ({@code rendered/} is created)
     * @param port the TLS listener's port
     * @param progress told what was written
     * @throws RenderException {@code NOT_A_DIRECTORY} or {@code IO_FAILED}
     */
    public static void writeRabbitMq(RabbitMqBrokerConfig broker, Path directory, int port,
            Consumer<String> progress) {
        Path rendered = directory.resolve("rendered");
        createDirectories(rendered);
        Path absolute = directory.toAbsolutePath();
        Path definitions = rendered.resolve("definitions.json");
        write(definitions, broker.definitionsJson());
        write(rendered.resolve("rabbitmq.conf"), RabbitMqBrokerConfig.rabbitmqConf(Integer.toString(port),
                absolute.resolve("ca.crt"), absolute.resolve("rabbitmq-server.crt"),
                absolute.resolve("rabbitmq-server.key"), definitions.toAbsolutePath()));
        write(rendered.resolve("SETUP.txt"), broker.setup(absolute, rendered.resolve("rabbitmq.conf"), definitions,
                port));
        progress.accept("rendered definitions.json, rabbitmq.conf, SETUP.txt for RabbitMQ (virtual host "
                + broker.virtualHost() + ", users " + broker.users() + ") into " + rendered);
    }

    /** Each publisher's stream of each queue of the policy, in policy order. */
    private List<String> publisherStreams() {
        Set<String> streams = new LinkedHashSet<>();
        for (ServicePolicy service : policy.services()) {
            for (String scope : service.scopes()) {
                Matcher publish = PUBLISH.matcher(scope);
                if (publish.matches()) {
                    streams.add(RedisAcl.streamKey(publish.group(1), service.name()));
                }
            }
        }
        return List.copyOf(streams);
    }

    /** The operator's steps: PostgreSQL, then Redis and the consumer groups. */
    private String setup(Path directory, List<String> streams) {
        Path absolute = directory.toAbsolutePath();
        List<String> lines = new ArrayList<>(List.of(
                "Servers of your own for the policy in " + absolute.resolve("policy.json"),
                "(trust domain " + policy.trustDomain() + "; services "
                        + policy.services().stream().map(ServicePolicy::name).toList() + ").",
                "Run every command in " + absolute + ".", ""));
        database.ifPresent(target -> {
            String service = target.service();
            lines.add(POSTGRES_VERSION + " (the drift check reads pg_ident_file_mappings, new in 15; tested on 15):");
            lines.add("  1. ssl = on, ssl_min_protocol_version = 'TLSv1.3', ssl_cert_file / ssl_key_file = "
                    + service + "-server.crt / .key, ssl_ca_file = ca.crt");
            List<String> files = new ArrayList<>(sql.keySet());
            files.add(files.isEmpty() ? 0 : 1, service + ".sql");
            StringBuilder run = new StringBuilder("  2. as a superuser: ");
            for (int i = 0; i < files.size(); i++) {
                boolean first = i == 0 && !files.get(0).equals(service + ".sql");
                run.append(i == 0 ? "" : ", then ").append(first ? "psql" : "psql -d " + target.name())
                        .append(" -f rendered/").append(files.get(i));
            }
            lines.add(run.toString());
            lines.add("  3. put rendered/pg_hba.conf (before any other host line) and rendered/pg_ident.conf"
                    + " in place; reload");
        });
        if (!redis) {
            lines.add("");
            return String.join("\n", lines);
        }
        lines.add("Redis 7 or newer, built with TLS: redis-server rendered/redis.conf");
        if (!streams.isEmpty()) {
            lines.add("  then create the consumer group '" + group + "' as the user " + GROUP_SETUP_USER
                    + ", which may run XGROUP CREATE on these streams and nothing else");
            lines.add("  (its client certificate: " + GROUP_SETUP_USER + ".crt / .key; its password: "
                    + GROUP_SETUP_USER + ".redis-password):");
            for (String stream : streams) {
                lines.add("  REDISCLI_AUTH=\"$(cat " + GROUP_SETUP_USER + ".redis-password)\" redis-cli --tls"
                        + " --cacert ca.crt --cert " + GROUP_SETUP_USER + ".crt --key " + GROUP_SETUP_USER + ".key"
                        + " -h localhost -p " + redisPort + " --user " + GROUP_SETUP_USER
                        + " XGROUP CREATE '" + stream + "' " + group + " 0 MKSTREAM");
            }
            lines.add("  (or QueueConsumer.createGroup(...) on a HardenedRedis connection as " + GROUP_SETUP_USER
                    + ").");
            lines.add("  Once the groups exist, you may delete the " + GROUP_SETUP_USER
                    + " line from rendered/users.acl and restart Redis.");
        }
        lines.add("");
        return String.join("\n", lines);
    }

    private static char[] randomPassword() {
        byte[] bytes = new byte[24];
        RANDOM.nextBytes(bytes);
        return HexFormat.of().formatHex(bytes).toCharArray();
    }

    /**
     * Creates {@code directory} and its parents, for files written beside the rendered ones.
     *
     * @throws RenderException {@code NOT_A_DIRECTORY} if the path is (or lies under) a file,
     *     {@code IO_FAILED} if it cannot be created
     */
    public static void createDirectories(Path directory) {
        for (Path path = directory; path != null; path = path.getParent()) {
            if (Files.exists(path) && !Files.isDirectory(path)) {
                throw new RenderException(RenderException.Reason.NOT_A_DIRECTORY, path + " is a file, not a"
                        + " directory; name a directory (it is created if missing)");
            }
        }
        try {
            Files.createDirectories(directory);
        } catch (IOException e) {
            throw new RenderException(RenderException.Reason.IO_FAILED, "cannot create the directory " + directory
                    + ": " + e, e);
        }
    }

    /**
     * Writes a file readable by others, e.g. beside the rendered ones.
     *
     * @throws RenderException {@code IO_FAILED}
     */
    public static void write(Path file, String content) {
        try {
            Files.writeString(file, content);
        } catch (IOException e) {
            throw new RenderException(RenderException.Reason.IO_FAILED, "cannot write " + file + ": " + e, e);
        }
    }

    /**
     * Writes a file readable by its owner only (0600), e.g. a secret beside the rendered files.
     *
     * @throws RenderException {@code IO_FAILED}
     */
    public static void writePrivate(Path file, String content) {
        try {
            Files.deleteIfExists(file);
            Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            Files.writeString(file, content);
        } catch (IOException e) {
            throw new RenderException(RenderException.Reason.IO_FAILED, "cannot write " + file + ": " + e, e);
        }
    }

    /** The service of the policy that stands for the database, and the database's name. */
    private record Database(String service, String name) {
    }

    /** Configures a {@link ServerConfigRenderer}. Not thread-safe. */
    public static final class Builder {
        private final Policy policy;
        private Optional<Database> database = Optional.empty();
        private final List<String> tenantTables = new ArrayList<>();
        private final Map<String, String> sql = new LinkedHashMap<>();
        private String group = "workers";
        private int redisPort = 6380;
        private boolean redis = true;

        private Builder(Policy policy) {
            this.policy = Objects.requireNonNull(policy, "policy");
        }

        /**
         * Renders PostgreSQL's files for this service of the policy, the one that stands for the
         * database (without one, no PostgreSQL files are rendered).
         *
         * @param service the database service, e.g. {@code orders-db}
         * @param database the database name, e.g. {@code orders}
         * @return this builder
         */
        public Builder database(String service, String database) {
            this.database = Optional.of(new Database(Objects.requireNonNull(service, "service"),
                    Objects.requireNonNull(database, "database")));
            return this;
        }

        /** A table whose rows belong to tenants: row-level security forced, with the tenant policy. */
        public Builder tenantTable(String table) {
            tenantTables.add(Objects.requireNonNull(table, "table"));
            return this;
        }

        /**
         * More SQL for the operator to run, as {@code rendered/<file>}, in the order added: the first
         * before the rendered roles and GRANTs and outside the database (e.g. a schema that creates
         * the database and connects to it), the others after them, in the database.
         *
         * @param file a plain file name ending in {@code .sql}
         * @param content the SQL
         * @return this builder
         */
        public Builder sql(String file, String content) {
            if (!file.matches("[a-z0-9_.-]+\\.sql")) {
                throw new IllegalArgumentException("an SQL file name is lower-case letters, digits, '.', '-' or '_',"
                        + " ending in .sql; got '" + file + "'");
            }
            sql.put(file, Objects.requireNonNull(content, "content"));
            return this;
        }

        /** The consumer group {@code SETUP.txt} creates on every publisher's stream (default {@code workers}). */
        public Builder consumerGroup(String group) {
            this.group = Objects.requireNonNull(group, "group");
            return this;
        }

        /** The TLS port of {@code redis.conf} (default 6380). */
        public Builder redisPort(int port) {
            this.redisPort = port;
            return this;
        }

        /**
         * Renders PostgreSQL's files only (with {@link #database}): no {@code users.acl},
         * {@code redis.conf} or Redis passwords, and no Redis steps in {@code SETUP.txt}.
         *
         * @return this builder
         */
        public Builder withoutRedis() {
            this.redis = false;
            return this;
        }

        /**
         * The renderer; nothing is checked or written until {@link ServerConfigRenderer#writeTo}.
         *
         * @throws IllegalStateException after {@link #withoutRedis()} without {@link #database}: nothing to render
         */
        public ServerConfigRenderer build() {
            if (!redis && database.isEmpty()) {
                throw new IllegalStateException("withoutRedis() without database(...) renders nothing; name the"
                        + " database service");
            }
            return new ServerConfigRenderer(this);
        }
    }
}
