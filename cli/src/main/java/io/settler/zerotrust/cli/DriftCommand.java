package io.settler.zerotrust.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.api.StatefulRedisConnection;
import io.settler.zerotrust.cli.render.ServerConfigRenderer;
import io.settler.zerotrust.credentials.CredentialSource;
import io.settler.zerotrust.jdbc.InsecureDataSourceException;
import io.settler.zerotrust.jdbc.PostgresMtlsDataSource;
import io.settler.zerotrust.jdbc.PostgresServerConfig;
import io.settler.zerotrust.jdbc.ServerConfigException;
import io.settler.zerotrust.policy.Policy;
import io.settler.zerotrust.queue.rabbitmq.RabbitMqBrokerConfig;
import io.settler.zerotrust.queue.rabbitmq.RabbitMqDrift;
import io.settler.zerotrust.queue.rabbitmq.RabbitMqException;
import io.settler.zerotrust.redis.HardenedRedis;
import io.settler.zerotrust.redis.PasswordSource;
import io.settler.zerotrust.redis.RedisAcl;
import io.settler.zerotrust.redis.RedisTlsException;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code zt drift}: does a live server still hold what the policy renders? Connects over mTLS with the
 * library's own clients ({@link PostgresMtlsDataSource}, {@link HardenedRedis}) as the operator, and
 * compares with the library's own checks ({@link PostgresServerConfig#drift}, {@link RedisAcl#drift})
 * against what {@link ServerConfigRenderer} renders ({@code zt render}). It only reads: the PostgreSQL
 * pool is read-only (the server must prove the role cannot write), and the Redis user needs no key.
 * RabbitMQ's users and permissions are readable over its HTTP API by administrators only, so
 * {@code zt drift rabbitmq} compares the broker's exported definitions ({@code rabbitmqctl
 * export_definitions}, run where the node's Erlang cookie is) with {@link RabbitMqBrokerConfig#drift},
 * and probes its TLS listener live as the operator ({@link RabbitMqBrokerConfig#probeListener}).
 */
@Command(name = "drift", mixinStandardHelpOptions = true,
        description = {"Compares a live server with what your policy renders (zt render), over mTLS as you,"
                + " the operator: exit 0 in sync, 1 on drift (each difference printed; --json for CI), 3 if the"
                + " server could not be checked. It never writes to the server."},
        subcommands = {DriftCommand.Postgres.class, DriftCommand.Redis.class, DriftCommand.RabbitMq.class})
final class DriftCommand {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);
    private static final String EXIT_CODES = "%nExit codes:%n";
    /** The exit codes every drift subcommand lists (the report and the handler in Zt give them). */
    private static final String IN_SYNC = "0:in sync";
    private static final String DRIFT = "1:drift (each difference printed), or the policy cannot be rendered";
    private static final String USAGE = "2:usage error";
    private static final String COULD_NOT_CHECK = "3:could not check: the server was not reached, or refused the TLS"
            + " handshake, the login or a read (the message says what to fix)";

    /** What every drift check takes: the policy, the server, the operator's credentials, the output. */
    static final class Common {

        @Option(names = "--policy", required = true, paramLabel = "<policy.json>",
                description = "Your policy (e.g. <out>/policy.json of zt render).")
        @Nullable Path policyFile;

        @Option(names = "--host", required = true, paramLabel = "<host>",
                description = "The server's host name or IP address.")
        String host = "";

        @Option(names = "--expect", paramLabel = "<spiffe-id|host>",
                description = "The name the server's certificate must prove (default: --host).")
        @Nullable String expect;

        @Mixin
        ClientCertificate certificate = new ClientCertificate();

        @Option(names = "--trust", required = true, paramLabel = "<bundle.pem>",
                description = "The CA certificates the server's certificate must chain to.")
        @Nullable Path trust;

        @Option(names = "--json", description = "Print the result as JSON (see cli/README.md for its shape).")
        boolean json;

        Path policy() {
            return Commands.required(policyFile, "--policy");
        }

        /** The operator's certificate and trust, fixed for this one check. */
        CredentialSource credentials(String command) {
            return CredentialSource.fixed(certificate.identity(command),
                    ClientCertificate.trust(Commands.required(trust, "--trust"), "--trust"));
        }

        /**
         * Prints the result and gives the exit code: 0 without differences, 1 with.
         *
         * @param server {@code postgres} or {@code redis}
         * @param address what was checked, e.g. {@code db.internal:5432/orders}
         * @param differences one sentence each
         * @param details more fields of the JSON, for this server
         */
        int report(PrintWriter out, String server, String address, List<String> differences,
                   Map<String, Object> details) {
            boolean inSync = differences.isEmpty();
            if (json) {
                Map<String, Object> result = new LinkedHashMap<>();
                result.put("server", server);
                result.put("address", address);
                result.put("policy", policy().toString());
                result.put("inSync", inSync);
                result.put("differences", differences);
                result.putAll(details);
                try {
                    out.println(JSON.writerWithDefaultPrettyPrinter().writeValueAsString(result));
                } catch (JsonProcessingException e) {
                    throw new IllegalStateException("a map of strings, lists and booleans is always JSON", e);
                }
            } else if (inSync) {
                out.println("IN SYNC: " + server + " " + address + " holds what the policy " + policy() + " renders");
            } else {
                out.println("DRIFT: " + server + " " + address + " differs from what the policy " + policy()
                        + " renders (" + differences.size() + (differences.size() == 1 ? " difference" : " differences")
                        + "):");
                differences.forEach(difference -> out.println("  - " + difference));
            }
            out.flush();
            return inSync ? Zt.OK : Zt.FINDING;
        }
    }

    /** {@code zt drift postgres}. */
    @Command(name = "postgres", mixinStandardHelpOptions = true, sortOptions = false,
            description = {"Compares a live PostgreSQL (15 or newer) with what zt render postgres renders for your"
                    + " policy (PostgresServerConfig#drift): pg_hba.conf and pg_ident.conf as the server read them,"
                    + " the roles' flags, defaults and memberships, the tenant tables' row-level security and owners,"
                    + " and the roles' privileges.",
                "You connect as --role with your certificate (PostgresMtlsDataSource, TLS 1.3, read-only): a role"
                        + " that is not a superuser, defaults to read-only transactions and holds SELECT on"
                        + " pg_hba_file_rules and pg_ident_file_mappings and EXECUTE on their functions, with"
                        + " CONNECT on the database; give its certificate a pg_ident map of its own (not the"
                        + " rendered one)."},
            exitCodeListHeading = EXIT_CODES,
            exitCodeList = {IN_SYNC, DRIFT, USAGE, COULD_NOT_CHECK})
    static final class Postgres implements Callable<Integer> {

        @Spec
        @Nullable CommandSpec spec;

        @Mixin
        Common common = new Common();

        @Option(names = "--port", paramLabel = "<port>", defaultValue = "5432",
                description = "The server's port (default ${DEFAULT-VALUE}).")
        int port = 5432;

        @Option(names = "--role", required = true, paramLabel = "<role>",
                description = "Your role: the one your certificate logs in as.")
        String role = "";

        @Mixin
        DatabaseOptions databaseOptions = new DatabaseOptions();

        @Override
        public Integer call() {
            PrintWriter out = Commands.out(spec);
            Policy policy = PolicyCommand.load(common.policy(), out);
            if (policy == null) {
                return Zt.FINDING;
            }
            ServerConfigRenderer.Builder renderer = ServerConfigRenderer.builder(policy);
            String name = databaseOptions.renderPostgres(renderer, "drift postgres");
            PostgresServerConfig config;
            try {
                config = renderer.build().postgres().orElseThrow();
            } catch (ServerConfigException e) {
                out.println("REFUSED " + e.reason() + ": " + e.getMessage());
                return Zt.FINDING;
            }
            CredentialSource credentials = common.credentials("zt drift postgres");
            PostgresMtlsDataSource.Builder pool;
            try {
                pool = PostgresMtlsDataSource.builder().host(common.host).port(port).database(name).role(role)
                        .credentials(credentials).readOnly().maximumPoolSize(1).poolName("zt-drift")
                        .connectionTimeout(CONNECT_TIMEOUT).statementTimeout(CONNECT_TIMEOUT);
                if (common.expect != null) {
                    pool.expectedServer(common.expect);
                }
            } catch (IllegalArgumentException e) {
                throw new UsageException(e.getMessage(), e);
            }
            String address = common.host + ":" + port + "/" + name;
            List<String> differences;
            try (PostgresMtlsDataSource dataSource = pool.build(); Connection connection = dataSource.getConnection()) {
                differences = config.drift(connection).differences();
            } catch (InsecureDataSourceException e) {
                throw new CouldNotCheckException(e.getMessage(), e);
            } catch (IllegalArgumentException e) {
                throw new UsageException(e.getMessage(), e);
            } catch (SQLException e) {
                throw new CouldNotCheckException("PostgreSQL " + address + " refused a read of the drift check ("
                        + e.getMessage() + "); grant the role " + role + " SELECT on pg_hba_file_rules and"
                        + " pg_ident_file_mappings and EXECUTE on the functions pg_hba_file_rules() and"
                        + " pg_ident_file_mappings()", e);
            }
            Map<String, Object> details = new LinkedHashMap<>();
            details.put("roles", config.roles());
            details.put("tenantTables", List.copyOf(databaseOptions.tenantTables));
            return common.report(out, "postgres", address, differences, details);
        }
    }

    /** {@code zt drift redis}. */
    @Command(name = "redis", mixinStandardHelpOptions = true, sortOptions = false,
            description = {"Compares a live Redis (7 or newer) with the users.acl zt render redis renders for your"
                    + " policy (RedisAcl#drift, by effective permissions): users missing, users the policy does not"
                    + " have, users whose rules or password differ. The passwords are the ones zt render wrote"
                    + " (<user>.redis-password beside the policy, or in --passwords). The group setup user"
                    + " (queue-setup) may be absent: SETUP.txt lets you delete it once the groups exist.",
                "You connect as --user with your certificate (HardenedRedis, TLS 1.3): an ACL user outside the"
                        + " policy allowed +acl|list +acl|cat (what the check reads) and +acl|whoami +client|info"
                        + " +ping +hello +auth (what the client proves its connection with), and no keys. ACL LIST"
                        + " shows the users' password hashes: keep that account to operators."},
            exitCodeListHeading = EXIT_CODES,
            exitCodeList = {IN_SYNC, DRIFT, USAGE, COULD_NOT_CHECK})
    static final class Redis implements Callable<Integer> {

        @Spec
        @Nullable CommandSpec spec;

        @Mixin
        Common common = new Common();

        @Option(names = "--port", paramLabel = "<port>", defaultValue = "6380",
                description = "The server's TLS port (default ${DEFAULT-VALUE}).")
        int port = 6380;

        @Option(names = "--user", required = true, paramLabel = "<acl-user>",
                description = "Your ACL user (outside the policy; never reported as drift).")
        String user = "";

        @Option(names = "--password-file", required = true, paramLabel = "<file>",
                description = "The file holding your ACL user's password.")
        @Nullable Path passwordFile;

        @Option(names = "--passwords", paramLabel = "<dir>",
                description = "Where zt render redis wrote <user>.redis-password (default: the directory of --policy).")
        @Nullable Path passwords;

        @Option(names = "--ignore-user", paramLabel = "<acl-user>",
                description = "A user the policy does not manage, e.g. another tool's (repeatable).")
        List<String> ignoredUsers = new ArrayList<>();

        @Override
        public Integer call() {
            PrintWriter out = Commands.out(spec);
            Path policyFile = common.policy();
            Policy policy = PolicyCommand.load(policyFile, out);
            if (policy == null) {
                return Zt.FINDING;
            }
            Path directory = passwords != null ? passwords
                    : Objects.requireNonNullElse(policyFile.toAbsolutePath().getParent(), Path.of("."));
            ServerConfigRenderer renderer = ServerConfigRenderer.builder(policy).build();
            Map<String, char[]> rendered = renderedPasswords(renderer, directory);
            RedisAcl acl;
            try {
                acl = renderer.redisAcl(rendered);
            } catch (RedisTlsException e) {
                out.println("REFUSED " + e.reason() + ": " + e.getMessage());
                return Zt.FINDING;
            } finally {
                rendered.values().forEach(password -> Arrays.fill(password, '\0'));
            }
            CredentialSource credentials = common.credentials("zt drift redis");
            HardenedRedis.Builder client;
            try {
                client = HardenedRedis.builder().host(common.host).port(port).user(user)
                        .password(PasswordSource.fromFile(Commands.required(passwordFile, "--password-file")))
                        .credentials(credentials).ioThreads(1).connectTimeout(CONNECT_TIMEOUT);
                if (common.expect != null) {
                    client.expectedServer(common.expect);
                }
            } catch (IllegalArgumentException e) {
                throw new UsageException(e.getMessage(), e);
            }
            List<String> ignored = new ArrayList<>(ignoredUsers);
            ignored.add(user);
            String address = common.host + ":" + port;
            RedisAcl.Drift drift;
            try (HardenedRedis redis = build(client);
                 StatefulRedisConnection<String, String> connection = redis.connect()) {
                drift = acl.drift(connection.sync(), ignored.toArray(String[]::new));
            } catch (RedisTlsException e) {
                throw new CouldNotCheckException(e.getMessage(), e);
            } catch (RedisCommandExecutionException e) {
                throw new CouldNotCheckException("Redis " + address + " refused a read of the drift check to the user "
                        + user + " (" + e.getMessage() + "); grant it +acl|list +acl|cat", e);
            }
            List<String> missing = drift.missingUsers().stream()
                    .filter(name -> !name.equals(ServerConfigRenderer.GROUP_SETUP_USER)).toList();
            List<String> differences = new ArrayList<>();
            missing.forEach(name -> differences.add("user " + name + " is missing: the policy renders it"));
            drift.unexpectedUsers().forEach(name -> differences.add("user " + name + " is not in the policy: delete it"
                    + " (ACL DELUSER), or pass --ignore-user " + name + " if another tool manages it"));
            drift.changedUsers().forEach((name, change) -> differences.add("user " + name + " differs: " + change));
            Map<String, Object> details = new LinkedHashMap<>();
            details.put("missingUsers", missing);
            details.put("unexpectedUsers", drift.unexpectedUsers());
            details.put("changedUsers", new TreeMap<>(drift.changedUsers()));
            return common.report(out, "redis", address, differences, details);
        }

        /** Builds the client; a setting or password file it refuses is a usage error. */
        private static HardenedRedis build(HardenedRedis.Builder client) {
            try {
                return client.build();
            } catch (RedisTlsException e) {
                switch (e.reason()) {
                    case PASSWORD_MISSING, PASSWORD_UNREADABLE, INVALID_CONFIGURATION, PLAINTEXT_SCHEME,
                            WEAK_VERIFICATION, PASSWORD_IN_URI -> throw new UsageException(e.getMessage(), e);
                    default -> throw e;
                }
            }
        }

        /**
         * The passwords zt render wrote, one file per user of the rendered ACL; the group setup user's
         * may be gone (then its user is not rendered, and a server that still has it shows it).
         */
        private static Map<String, char[]> renderedPasswords(ServerConfigRenderer renderer, Path directory) {
            Map<String, char[]> passwords = new LinkedHashMap<>();
            for (String name : renderer.redisUsers()) {
                Path file = ServerConfigRenderer.passwordFile(directory, name);
                if (name.equals(ServerConfigRenderer.GROUP_SETUP_USER) && !Files.exists(file)) {
                    continue;
                }
                try {
                    passwords.put(name, PasswordSource.fromFile(file).password());
                } catch (RedisTlsException e) {
                    passwords.values().forEach(password -> Arrays.fill(password, '\0'));
                    throw new UsageException(e.getMessage() + " (the password zt render redis wrote for the user "
                            + name + "; --passwords names the directory that holds <user>.redis-password)", e);
                }
            }
            return passwords;
        }
    }

    /** {@code zt drift rabbitmq}. */
    @Command(name = "rabbitmq", mixinStandardHelpOptions = true, sortOptions = false,
            description = {"Compares a live RabbitMQ (3.10 or newer) with what zt render rabbitmq renders for your"
                    + " policy (RabbitMqBrokerConfig#drift): virtual hosts, users (missing, not in the policy, with a"
                    + " password or tags), permissions, topic permissions, and the queues, exchanges and bindings of"
                    + " the virtual host, from the broker's exported definitions; then probes its TLS listener as you"
                    + " (RabbitMqBrokerConfig#probeListener): TLS 1.3 with the broker's identity verified and an"
                    + " EXTERNAL login must work, TLS 1.2, a client without a certificate and any login but EXTERNAL"
                    + " must be refused.",
                "RabbitMQ lists users and permissions over its HTTP API to administrators only; an operator tool"
                        + " needs none: export the definitions where the node runs (rabbitmqctl export_definitions -"
                        + " > live.json, with the node's Erlang cookie) and pass the file, or - for standard input."
                        + " Your certificate is the operator's (zt render --operator, default queue-setup)."},
            exitCodeListHeading = EXIT_CODES,
            exitCodeList = {IN_SYNC, DRIFT, USAGE, COULD_NOT_CHECK})
    static final class RabbitMq implements Callable<Integer> {

        @Spec
        @Nullable CommandSpec spec;

        @Mixin
        Common common = new Common();

        @Option(names = "--port", paramLabel = "<port>", defaultValue = "5671",
                description = "The broker's TLS port (default ${DEFAULT-VALUE}).")
        int port = 5671;

        @Option(names = "--definitions", required = true, paramLabel = "<file|->",
                description = "The broker's definitions, from rabbitmqctl export_definitions (- reads standard input).")
        String definitions = "";

        @Mixin
        BrokerOptions brokerOptions = new BrokerOptions();

        @Option(names = "--ignore-user", paramLabel = "<user>",
                description = "A user the policy does not manage, e.g. an administrator of yours (repeatable).")
        List<String> ignoredUsers = new ArrayList<>();

        @Override
        public Integer call() {
            PrintWriter out = Commands.out(spec);
            Policy policy = PolicyCommand.load(common.policy(), out);
            if (policy == null) {
                return Zt.FINDING;
            }
            RabbitMqBrokerConfig broker;
            try {
                broker = brokerOptions.render(policy);
            } catch (IllegalArgumentException e) {
                out.println("REFUSED: " + e.getMessage());
                return Zt.FINDING;
            }
            String exported = readDefinitions();
            RabbitMqDrift drift;
            try {
                drift = broker.drift(exported, ignoredUsers.toArray(String[]::new));
            } catch (IllegalArgumentException e) {
                throw new UsageException("--definitions " + definitions + ": " + e.getMessage(), e);
            }
            CredentialSource credentials = common.credentials("zt drift rabbitmq");
            try {
                drift = drift.and(broker.probeListener(credentials, common.host, port,
                        Optional.ofNullable(common.expect)));
            } catch (RabbitMqException e) {
                throw new CouldNotCheckException(e.getMessage(), e);
            } catch (IllegalArgumentException e) {
                throw new UsageException(e.getMessage(), e);
            }
            List<Map<String, String>> findings = new ArrayList<>();
            drift.findings().forEach(finding -> {
                Map<String, String> entry = new LinkedHashMap<>();
                entry.put("kind", finding.kind().name());
                entry.put("subject", finding.subject());
                entry.put("detail", finding.detail());
                findings.add(entry);
            });
            Map<String, Object> details = new LinkedHashMap<>();
            details.put("virtualHost", broker.virtualHost());
            details.put("users", broker.users());
            details.put("findings", findings);
            return common.report(out, "rabbitmq", common.host + ":" + port + "/" + broker.virtualHost(),
                    drift.findings().stream().map(RabbitMqDrift.Finding::toString).toList(), details);
        }

        /** The exported definitions, from the file or standard input. */
        private String readDefinitions() {
            try {
                if (definitions.equals("-")) {
                    return new String(System.in.readAllBytes(), StandardCharsets.UTF_8);
                }
                Path file = Path.of(definitions);
                Inputs.existingFile(file, "exported definitions (rabbitmqctl export_definitions)");
                return Files.readString(file);
            } catch (IOException e) {
                throw new UsageException("--definitions " + definitions + " cannot be read: " + e.getMessage(), e);
            }
        }
    }
}
