package io.settler.zerotrust.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.InstanceOfAssertFactories.STRING;

import io.settler.zerotrust.redis.RedisAcl;
import io.settler.zerotrust.testkit.LocalRedis;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bin/demo --prepare <dir>}: creates the directory, renders the policy found there (never
 * replacing it), refuses in one line; and the XGROUP step of the {@code SETUP.txt} it writes runs,
 * as written, against a Redis started with the rendered ACL.
 */
class PrepareTest {

    /** A policy of someone else's: none of the example's services, queue or trust domain. */
    private static final String SHOP_POLICY = """
            {
              "trustDomain": "shop.example",
              "services": {
                "edge": {"scopes": ["catalog:read"]},
                "storefront": {
                  "scopes": ["db:read", "db:write", "queue:emails:publish"],
                  "accepts": [{"service": "edge", "networks": ["10.1.0.0/16"]}]
                },
                "mailer": {"scopes": ["db:read", "queue:emails:consume"]},
                "shop-db": {
                  "accepts": [
                    {"service": "storefront", "networks": ["10.2.0.0/16"]},
                    {"service": "mailer", "networks": ["10.3.0.0/16"]}
                  ]
                }
              }
            }
            """;

    @Test
    void createsAMissingNestedDirectoryAndWritesTheExamplePolicyThere(@TempDir Path temporary) throws Exception {
        Path directory = temporary.resolve("not/there/yet");
        List<String> said = new ArrayList<>();
        LocalZone.Prepared prepared = LocalZone.prepare(directory, said::add);
        assertThat(prepared.examplePolicyWritten()).isTrue();
        assertThat(said).anyMatch(line -> line.contains("wrote the bundled example policy"));
        assertThat(directory.resolve("policy.json")).hasSameTextualContentAs(
                Path.of(Deployment.class.getResource(Deployment.POLICY_RESOURCE).toURI()));
        assertThat(Files.readString(directory.resolve("rendered/pg_hba.conf"))).contains("\"api\"", "\"worker\"");
        assertThat(Files.readString(directory.resolve("rendered/SETUP.txt")))
                .contains("PostgreSQL 15 or newer", "--user queue-setup",
                        "XGROUP CREATE '" + RedisAcl.streamKey(LocalZone.QUEUE, "api") + "' workers 0 MKSTREAM");
    }

    @Test
    void rendersTheUsersOwnPolicyAndLeavesItByteForByte(@TempDir Path directory) throws Exception {
        byte[] policy = SHOP_POLICY.getBytes(StandardCharsets.UTF_8);
        Files.write(directory.resolve("policy.json"), policy);
        Result result = demo("--prepare", directory.toString(), "--database-service", "shop-db");
        assertThat(result.status()).as(result.toString()).isZero();
        assertThat(Files.readAllBytes(directory.resolve("policy.json"))).isEqualTo(policy);

        Path rendered = directory.resolve("rendered");
        assertThat(Files.readString(rendered.resolve("pg_hba.conf")))
                .contains("hostssl \"orders\" \"storefront\" 10.2.0.0/16 cert",
                        "hostssl \"orders\" \"mailer\" 10.3.0.0/16 cert");
        assertThat(Files.readString(rendered.resolve("pg_ident.conf")))
                .contains("\"spiffe://shop.example/storefront\" \"storefront\"");
        assertThat(Files.readString(rendered.resolve("users.acl")))
                .contains("user storefront on #", "user mailer on #", "user queue-setup on #",
                        RedisAcl.streamKey("emails", "storefront"))
                .doesNotContain("user edge");
        assertThat(rendered.resolve("shop-db.sql")).exists();
        assertThat(directory.resolve("shop-db-server.crt")).exists();
        for (String file : List.of("pg_hba.conf", "pg_ident.conf", "shop-db.sql", "users.acl", "SETUP.txt")) {
            assertThat(Files.readString(rendered.resolve(file))).as(file)
                    .doesNotContain("\"api\"", "\"worker\"", "user api", "user worker", "demo.settler.test",
                            "orders-db", "{jobs}");
        }
        assertThat(Files.readString(rendered.resolve("SETUP.txt")))
                .contains("shop-db-server.crt", "XGROUP CREATE '" + RedisAcl.streamKey("emails", "storefront") + "'");
        assertThat(directory.resolve("storefront.redis-password")).exists();
        assertThat(directory.resolve("api.redis-password")).doesNotExist();
    }

    @Test
    void refusesAnInvalidPolicyInOneLineAndLeavesIt(@TempDir Path directory) throws Exception {
        String invalid = "{\"trustDomain\": \"shop.example\", \"services\": {\"a\": {\"scopez\": []}}}";
        Files.writeString(directory.resolve("policy.json"), invalid);
        Result result = demo("--prepare", directory.toString());
        assertThat(result.status()).isEqualTo(1);
        assertThat(result.output()).as("nothing on standard output").isEmpty();
        assertThat(result.errors().lines()).as(result.errors()).singleElement(STRING)
                .startsWith("demo --prepare: ").contains("scopez").doesNotContain("Exception", "\tat ");
        assertThat(Files.readString(directory.resolve("policy.json"))).isEqualTo(invalid);
        assertThat(directory.resolve("rendered")).doesNotExist();
    }

    @Test
    void refusesAFileInOneLine(@TempDir Path temporary) throws Exception {
        Path file = Files.writeString(temporary.resolve("a-file"), "x");
        for (Path target : List.of(file, file.resolve("below"))) {
            Result result = demo("--prepare", target.toString());
            assertThat(result.status()).isEqualTo(1);
            assertThat(result.errors().lines()).as(result.errors()).singleElement(STRING)
                    .isEqualTo("demo --prepare: " + file + " is a file, not a directory; name a directory (it is"
                            + " created if missing)");
        }
    }

    @Test
    void refusesAPolicyWithADatabaseButNoDatabaseServiceNamed(@TempDir Path directory) throws Exception {
        Files.writeString(directory.resolve("policy.json"), SHOP_POLICY);
        Result result = demo("--prepare", directory.toString());
        assertThat(result.status()).isEqualTo(1);
        assertThat(result.errors().lines()).singleElement(STRING)
                .contains("--database-service <name>", "[storefront, mailer]");
    }

    /**
     * SETUP.txt's XGROUP CREATE lines, run as written (only the server's port is this test's),
     * against a Redis whose only users are the rendered users.acl: the group setup user creates
     * the group; the services' users cannot, and the setup user can do nothing else.
     */
    @Test
    void theSetupStepRunsAsWrittenAsTheSetupUserAndOnlyAsIt(@TempDir Path directory) throws Exception {
        Files.writeString(directory.resolve("policy.json"), SHOP_POLICY);
        LocalZone.Prepared prepared = LocalZone.prepare(directory, java.util.Optional.of("shop-db"), line -> { });
        List<String> steps = Files.readString(directory.resolve("rendered/SETUP.txt")).lines()
                .map(String::strip).filter(line -> line.contains("redis-cli")).toList();
        assertThat(steps).hasSize(1);
        String stream = RedisAcl.streamKey("emails", "storefront");
        try (LocalRedis redis = LocalRedis.builder(prepared.certificateAuthority())
                .aclFile(Files.readString(directory.resolve("rendered/users.acl"))).start()) {
            String step = steps.get(0).replace("-h localhost -p 6380",
                    "-h " + redis.host() + " -p " + redis.tlsPort());
            assertThat(step).contains("-p " + redis.tlsPort());

            for (String service : List.of("storefront", "mailer")) {
                Result refused = shell(directory, step.replace("queue-setup.redis-password", service
                        + ".redis-password").replace("--user queue-setup", "--user " + service));
                assertThat(refused.output() + refused.errors()).as(service).contains("NOPERM");
            }
            assertThat(redis.executeAsAdmin("EXISTS", stream)).isEqualTo("0");

            Result created = shell(directory, step);
            assertThat(created.output()).as(created.toString()).isEqualTo("OK\n");
            assertThat(redis.executeAsAdmin("XINFO", "GROUPS", stream)).contains("workers");

            for (String other : List.of("XADD '" + stream + "' '*' a b", "XREADGROUP GROUP workers x STREAMS '"
                    + stream + "' '>'", "XGROUP DESTROY '" + stream + "' workers", "GET x")) {
                Result refused = shell(directory, step.substring(0, step.indexOf(" XGROUP CREATE")) + " " + other);
                assertThat(refused.output() + refused.errors()).as(other).contains("NOPERM");
            }
        }
    }

    private record Result(int status, String output, String errors) {
    }

    private static Result shell(Path directory, String command) throws IOException, InterruptedException {
        return run(new ProcessBuilder("bash", "-c", command).directory(directory.toFile()));
    }

    private static Result demo(String... args) throws IOException, InterruptedException {
        String classPath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                .toString(), "-cp", classPath, Demo.class.getName()));
        command.addAll(List.of(args));
        return run(new ProcessBuilder(command));
    }

    private static Result run(ProcessBuilder builder) throws IOException, InterruptedException {
        Path output = Files.createTempFile("prepare-test", ".out");
        Path errors = Files.createTempFile("prepare-test", ".err");
        try {
            Process process = builder.redirectOutput(output.toFile()).redirectError(errors.toFile()).start();
            process.getOutputStream().close();
            assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
            return new Result(process.exitValue(), Files.readString(output), Files.readString(errors));
        } finally {
            Files.deleteIfExists(output);
            Files.deleteIfExists(errors);
        }
    }
}
