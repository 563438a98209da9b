package io.settler.zerotrust.cli;

import static io.settler.zerotrust.cli.ZtRun.inProcess;
import static io.settler.zerotrust.cli.ZtRun.process;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.settler.zerotrust.pki.DevCertificateAuthority;
import io.settler.zerotrust.testkit.LocalPostgres;
import io.settler.zerotrust.testkit.LocalRedis;
import io.settler.zerotrust.testkit.TlsPostgres;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code zt drift} against real servers configured from what {@code zt render} wrote: the testkit's
 * shared TLS PostgreSQL (its pg_hba.conf and pg_ident.conf replaced by the rendered ones, the rendered
 * SQL run), and a TLS Redis started from the rendered {@code users.acl}. Each drift test changes the
 * server the way an operator might by mistake, and undoes it.
 */
@TlsPostgres
class DriftCommandTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String DATABASE = "drift_orders";
    private static final String OPERATOR = "drift_operator";
    private static final String REDIS_OPERATOR = "drift-operator";
    private static final String REDIS_OPERATOR_PASSWORD = "drift-operator-secret";
    /** The documented privileges of the Redis operator, no more. */
    private static final String REDIS_OPERATOR_RULES = "+acl|list +acl|cat +acl|whoami +client|info +ping +hello +auth";

    @TempDir
    static Path dir;

    private static LocalPostgres postgres;
    private static LocalRedis redis;

    @BeforeAll
    static void configureTheServersFromTheRenderedFiles(LocalPostgres shared) throws Exception {
        postgres = shared;
        String trustDomain = postgres.certificateAuthority().trustDomain().toString();
        Path policy = Files.writeString(dir.resolve("policy.json"), """
                {
                  "trustDomain": "%s",
                  "services": {
                    "drift_db": {"accepts": [{"service": "drift_api", "networks": ["127.0.0.1/32"]},
                                             {"service": "drift_reports", "networks": ["127.0.0.1/32"]}]},
                    "drift_api": {"scopes": ["db:read", "db:write", "redis:drift_api:write", "queue:jobs:publish"]},
                    "drift_reports": {"scopes": ["db:read"]},
                    "drift_worker": {"scopes": ["queue:jobs:consume"]}
                  }
                }
                """.formatted(trustDomain));
        ZtRun.Result pg = inProcess("render", "postgres", "--policy", policy, "--out", dir.resolve("pg"),
                "--database-service", "drift_db", "--database", DATABASE, "--tenant-table", "orders");
        assertThat(pg.exit()).as(pg.toString()).isZero();
        List<String> hba = new ArrayList<>(Files.readAllLines(dir.resolve("pg/rendered/pg_hba.conf")));
        hba.add(0, "hostssl " + DATABASE + " " + OPERATOR + " 127.0.0.1/32 cert map=operator");
        List<String> ident = new ArrayList<>(Files.readAllLines(dir.resolve("pg/rendered/pg_ident.conf")));
        ident.add("operator \"spiffe://" + trustDomain + "/" + OPERATOR + "\" " + OPERATOR);
        postgres.replaceAuthentication(hba, ident);
        postgres.createRole("drift_owner");
        postgres.createRole(OPERATOR);
        postgres.createDatabase(DATABASE, "drift_owner");
        postgres.executeAsSuperuser(DATABASE, String.join("\n",
                "CREATE TABLE orders (id serial PRIMARY KEY, tenant_id text NOT NULL, item text NOT NULL);",
                "ALTER TABLE orders OWNER TO drift_owner;",
                // The operator's read-only role: what zt drift postgres --help asks for, no more.
                "ALTER ROLE " + OPERATOR + " SET default_transaction_read_only = on;",
                "GRANT CONNECT ON DATABASE " + DATABASE + " TO " + OPERATOR + ";",
                "GRANT SELECT ON pg_hba_file_rules TO " + OPERATOR + ";",
                "GRANT EXECUTE ON FUNCTION pg_hba_file_rules() TO " + OPERATOR + ";",
                "GRANT SELECT ON pg_ident_file_mappings TO " + OPERATOR + ";",
                "GRANT EXECUTE ON FUNCTION pg_ident_file_mappings() TO " + OPERATOR + ";"));
        postgres.executeAsSuperuser(DATABASE, Files.readString(dir.resolve("pg/rendered/drift_db.sql")));
        postgres.clientCertificate(OPERATOR).writePem(dir, "operator"); // operator.crt/.key, ca.crt

        ZtRun.Result rendered = inProcess("render", "redis", "--policy", policy, "--out", dir.resolve("redis"));
        assertThat(rendered.exit()).as(rendered.toString()).isZero();
        String hash = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                .digest(REDIS_OPERATOR_PASSWORD.getBytes(StandardCharsets.UTF_8)));
        redis = LocalRedis.builder(postgres.certificateAuthority())
                .aclFile(Files.readString(dir.resolve("redis/rendered/users.acl"))
                        + "user " + REDIS_OPERATOR + " on #" + hash + " " + REDIS_OPERATOR_RULES + "\n")
                .start();
        Files.writeString(dir.resolve("operator.redis-password"), REDIS_OPERATOR_PASSWORD);
    }

    @AfterAll
    static void stopRedis() {
        if (redis != null) {
            redis.close();
        }
    }

    @AfterEach
    void redisHoldsTheRenderedFileAgain() {
        redis.executeAsAdmin("ACL", "LOAD");
    }

    private static List<Object> postgresArgs(Object... more) {
        List<Object> args = new ArrayList<>(List.of("drift", "postgres", "--policy", dir.resolve("policy.json"),
                "--host", postgres.host(), "--port", postgres.port(), "--role", OPERATOR,
                "--database-service", "drift_db", "--database", DATABASE, "--tenant-table", "orders",
                "--cert", dir.resolve("operator.crt"), "--key", dir.resolve("operator.key")));
        args.addAll(List.of(more));
        return args;
    }

    private static List<Object> redisArgs(Object... more) {
        List<Object> args = new ArrayList<>(List.of("drift", "redis", "--policy", dir.resolve("redis/policy.json"),
                "--host", redis.host(), "--port", redis.tlsPort(), "--user", REDIS_OPERATOR,
                "--password-file", dir.resolve("operator.redis-password"), "--ignore-user", "testkit-admin",
                "--cert", dir.resolve("operator.crt"), "--key", dir.resolve("operator.key")));
        args.addAll(List.of(more));
        return args;
    }

    @Test
    void postgresInSyncExitsZero() {
        ZtRun.Result result = inProcess(postgresArgs("--trust", dir.resolve("ca.crt")).toArray());
        assertThat(result.exit()).as(result.toString()).isZero();
        assertThat(result.out()).isEqualTo("IN SYNC: postgres localhost:" + postgres.port() + "/" + DATABASE
                + " holds what the policy " + dir.resolve("policy.json") + " renders\n");
        assertThat(result.err()).isEmpty();
    }

    @Test
    void postgresGrantOutsideThePolicyIsDriftNamedInJson() throws Exception {
        postgres.executeAsSuperuser(DATABASE, "GRANT INSERT ON orders TO drift_reports");
        try {
            ZtRun.Result result = process(postgresArgs("--trust", dir.resolve("ca.crt"), "--json").toArray());
            assertThat(result.exit()).as(result.toString()).isEqualTo(1);
            assertThat(result.err()).as("nothing but the JSON, on standard output").isEmpty();
            JsonNode json = JSON.readTree(result.out());
            assertThat(json.get("server").asText()).isEqualTo("postgres");
            assertThat(json.get("address").asText()).isEqualTo("localhost:" + postgres.port() + "/" + DATABASE);
            assertThat(json.get("inSync").asBoolean()).isFalse();
            assertThat(texts(json.get("differences")))
                    .containsExactly("role drift_reports may write to orders without db:write");
            assertThat(texts(json.get("roles"))).containsExactly("drift_api", "drift_reports");
        } finally {
            postgres.executeAsSuperuser(DATABASE, "REVOKE INSERT ON orders FROM drift_reports");
        }
    }

    @Test
    void postgresExtraRoleMembershipIsDriftForHumans() {
        postgres.executeAsSuperuser("GRANT drift_owner TO drift_api");
        try {
            ZtRun.Result result = inProcess(postgresArgs("--trust", dir.resolve("ca.crt")).toArray());
            assertThat(result.exit()).as(result.toString()).isEqualTo(1);
            assertThat(result.out()).startsWith("DRIFT: postgres localhost:" + postgres.port() + "/" + DATABASE)
                    .contains("(1 difference):\n  - role drift_api is a member of drift_owner, the owner of table"
                            + " orders");
        } finally {
            postgres.executeAsSuperuser("REVOKE drift_owner FROM drift_api");
        }
    }

    @Test
    void postgresOperatorThatCouldWriteIsRefusedSoDriftNeverWrites() {
        postgres.executeAsSuperuser("ALTER ROLE " + OPERATOR + " RESET default_transaction_read_only");
        try {
            ZtRun.Result result = inProcess(postgresArgs("--trust", dir.resolve("ca.crt")).toArray());
            assertThat(result.exit()).as(result.toString()).isEqualTo(3);
            assertThat(result.out()).isEmpty();
            assertThat(result.err().strip()).doesNotContain("\n").startsWith("zt: could not check: ")
                    .contains("default_transaction_read_only = on");
        } finally {
            postgres.executeAsSuperuser("ALTER ROLE " + OPERATOR + " SET default_transaction_read_only = on");
        }
    }

    @Test
    void postgresServerOfAnotherCaCannotBeChecked() {
        Path otherCa = DevCertificateAuthority.create("other.test").writeCaBundle(dir.resolve("other-ca.crt"));
        ZtRun.Result result = inProcess(postgresArgs("--trust", otherCa).toArray());
        assertThat(result.exit()).as(result.toString()).isEqualTo(3);
        assertThat(result.out()).isEmpty();
        assertThat(result.err().strip()).doesNotContain("\n").startsWith("zt: could not check: ")
                .contains("chains to the trust bundle");
    }

    @Test
    void redisInSyncExitsZero() throws Exception {
        ZtRun.Result result = process(redisArgs("--trust", dir.resolve("ca.crt")).toArray());
        assertThat(result.exit()).as(result.toString()).isZero();
        assertThat(result.out()).isEqualTo("IN SYNC: redis localhost:" + redis.tlsPort() + " holds what the policy "
                + dir.resolve("redis/policy.json") + " renders\n");
        assertThat(result.err()).isEmpty();
    }

    @Test
    void redisAclChangesAreDriftNamedInJsonAndTheGroupSetupUserMayBeGone() throws Exception {
        redis.executeAsAdmin("ACL", "SETUSER", "drift_api", "+flushall");
        redis.executeAsAdmin("ACL", "SETUSER", "intruder", "on", ">intruder-secret", "~*", "+@all");
        redis.executeAsAdmin("ACL", "DELUSER", "queue-setup");
        ZtRun.Result result = inProcess(redisArgs("--trust", dir.resolve("ca.crt"), "--json").toArray());
        assertThat(result.exit()).as(result.toString()).isEqualTo(1);
        JsonNode json = JSON.readTree(result.out());
        assertThat(json.get("server").asText()).isEqualTo("redis");
        assertThat(json.get("inSync").asBoolean()).isFalse();
        assertThat(texts(json.get("missingUsers"))).isEmpty();
        assertThat(texts(json.get("unexpectedUsers"))).containsExactly("intruder");
        assertThat(json.get("changedUsers").get("drift_api").asText()).contains("live has [+flushall]");
        assertThat(texts(json.get("differences"))).hasSize(2)
                .anySatisfy(line -> assertThat(line).startsWith("user intruder is not in the policy"))
                .anySatisfy(line -> assertThat(line).startsWith("user drift_api differs: live has [+flushall]"));
    }

    @Test
    void redisMissingUserIsDriftForHumans() {
        redis.executeAsAdmin("ACL", "DELUSER", "drift_worker");
        ZtRun.Result result = inProcess(redisArgs("--trust", dir.resolve("ca.crt")).toArray());
        assertThat(result.exit()).as(result.toString()).isEqualTo(1);
        assertThat(result.out()).contains("(1 difference):\n  - user drift_worker is missing");
    }

    @Test
    void redisServerOfAnotherCaCannotBeChecked() {
        Path otherCa = DevCertificateAuthority.create("other.test").writeCaBundle(dir.resolve("other-ca.crt"));
        ZtRun.Result result = inProcess(redisArgs("--trust", otherCa).toArray());
        assertThat(result.exit()).as(result.toString()).isEqualTo(3);
        assertThat(result.err().strip()).doesNotContain("\n").startsWith("zt: could not check: ");
    }

    @Test
    void unreachableServerCannotBeChecked() throws Exception {
        int closed;
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closed = socket.getLocalPort();
        }
        List<Object> args = redisArgs("--trust", dir.resolve("ca.crt"));
        args.set(args.indexOf(redis.tlsPort()), closed);
        ZtRun.Result redisDown = process(args.toArray());
        assertThat(redisDown.exit()).as(redisDown.toString()).isEqualTo(3);
        assertThat(redisDown.out()).isEmpty();
        assertThat(redisDown.err().strip()).doesNotContain("\n").startsWith("zt: could not check: ")
                .contains(String.valueOf(closed));
        List<Object> pgArgs = postgresArgs("--trust", dir.resolve("ca.crt"));
        pgArgs.set(pgArgs.indexOf(postgres.port()), closed);
        ZtRun.Result postgresDown = inProcess(pgArgs.toArray());
        assertThat(postgresDown.exit()).as(postgresDown.toString()).isEqualTo(3);
        assertThat(postgresDown.err().strip()).doesNotContain("\n").startsWith("zt: could not check: ")
                .contains(String.valueOf(closed));
    }

    @Test
    void usageErrorsExitTwo() {
        ZtRun.Result noCert = inProcess("drift", "redis", "--policy", dir.resolve("redis/policy.json"), "--host",
                "localhost", "--user", REDIS_OPERATOR, "--password-file", dir.resolve("operator.redis-password"),
                "--trust", dir.resolve("ca.crt"));
        assertThat(noCert.exit()).as(noCert.toString()).isEqualTo(2);
        assertThat(noCert.err().strip()).doesNotContain("\n").contains("--cert");
        List<Object> noPasswords = redisArgs("--trust", dir.resolve("ca.crt"), "--passwords", dir.resolve("pg"));
        ZtRun.Result wrongDir = inProcess(noPasswords.toArray());
        assertThat(wrongDir.exit()).as(wrongDir.toString()).isEqualTo(2);
        assertThat(wrongDir.err().strip()).doesNotContain("\n").contains("--passwords");
        ZtRun.Result noTrust = inProcess(postgresArgs().toArray());
        assertThat(noTrust.exit()).as(noTrust.toString()).isEqualTo(2);
        assertThat(noTrust.err()).contains("--trust");
        ZtRun.Result rabbit = inProcess("drift", "rabbitmq");
        assertThat(rabbit.exit()).as(rabbit.toString()).isEqualTo(2);
    }

    private static List<String> texts(JsonNode array) {
        return StreamSupport.stream(array.spliterator(), false).map(JsonNode::asText).toList();
    }
}
