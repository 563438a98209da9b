package io.settler.zerotrust.cli;

import static io.settler.zerotrust.cli.ZtRun.inProcess;
import static io.settler.zerotrust.cli.ZtRun.process;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RenderCommandTest {

    @TempDir
    Path dir;

    private Path policy() throws Exception {
        return Files.writeString(dir.resolve("mine.json"), PolicyCommandTest.POLICY);
    }

    @Test
    void rendersPostgresAloneForTheUsersPolicy() throws Exception {
        Path out = dir.resolve("servers");
        ZtRun.Result result = process("render", "postgres", "--policy", policy(), "--out", out,
                "--database-service", "orders-db", "--database", "orders");
        assertThat(result.exit()).as(result.toString()).isZero();
        assertThat(out.resolve("rendered/pg_hba.conf")).content().contains("hostssl");
        assertThat(out.resolve("rendered/pg_ident.conf")).content().contains("spiffe://example.org/api");
        assertThat(out.resolve("rendered/orders-db.sql")).exists();
        assertThat(out.resolve("rendered/SETUP.txt")).content().contains("psql -d orders");
        assertThat(out.resolve("policy.json")).hasSameTextualContentAs(dir.resolve("mine.json"));
        assertThat(out.resolve("rendered/SETUP.txt")).content().doesNotContain("redis");
        assertThat(out.resolve("rendered/users.acl")).doesNotExist();
        assertThat(out.resolve("rendered/redis.conf")).doesNotExist();
        assertThat(out.resolve("api.redis-password")).doesNotExist();
        assertThat(result.out()).contains("rendered pg_hba.conf, pg_ident.conf, orders-db.sql, SETUP.txt");
    }

    @Test
    void rendersRedisAlone() throws Exception {
        Path out = dir.resolve("redis");
        ZtRun.Result result = process("render", "redis", "--policy", policy(), "--out", out, "--redis-port", "7000");
        assertThat(result.exit()).as(result.toString()).isZero();
        assertThat(out.resolve("rendered/users.acl")).content().contains("user api");
        assertThat(out.resolve("rendered/redis.conf")).content().contains("port 0").contains("tls-port 7000")
                .contains("aclfile \"" + out.resolve("rendered/users.acl").toAbsolutePath() + "\"");
        assertThat(out.resolve("rendered/SETUP.txt")).content().contains("redis-server rendered/redis.conf")
                .doesNotContain("psql");
        assertThat(out.resolve("rendered/pg_hba.conf")).doesNotExist();
        assertThat(out.resolve("rendered/pg_ident.conf")).doesNotExist();
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(out.resolve("api.redis-password"))))
                .isEqualTo("rw-------");
        assertThat(out.resolve("policy.json")).hasSameTextualContentAs(dir.resolve("mine.json"));
    }

    @Test
    void refusesAnInvalidPolicy() throws Exception {
        Path invalid = Files.writeString(dir.resolve("bad.json"), "{\"trustDomain\": \"example.org\"}");
        ZtRun.Result result = inProcess("render", "redis", "--policy", invalid, "--out", dir.resolve("out"));
        assertThat(result.exit()).as(result.toString()).isEqualTo(1);
        assertThat(result.out()).startsWith("INVALID ");
    }

    @Test
    void refusesADatabaseServiceThePolicyDoesNotHave() throws Exception {
        ZtRun.Result result = inProcess("render", "postgres", "--policy", policy(), "--out", dir.resolve("out"),
                "--database-service", "nope");
        assertThat(result.exit()).as(result.toString()).isEqualTo(1);
        assertThat(result.out()).startsWith("REFUSED ");
    }

    @Test
    void usageErrorsExitTwo() throws Exception {
        ZtRun.Result noService = inProcess("render", "postgres", "--policy", policy(), "--out", dir.resolve("out"));
        assertThat(noService.exit()).as(noService.toString()).isEqualTo(2);
        assertThat(noService.err()).contains("--database-service");
        ZtRun.Result rabbit = inProcess("render", "rabbitmq", "--policy", policy(), "--out", dir.resolve("out"),
                "--database-service", "orders-db");
        assertThat(rabbit.exit()).as(rabbit.toString()).isEqualTo(2);
        assertThat(rabbit.err()).contains("zt render postgres");
        ZtRun.Result slash = inProcess("render", "rabbitmq", "--policy", policy(), "--out", dir.resolve("out"),
                "--vhost", "/");
        assertThat(slash.exit()).as(slash.toString()).isEqualTo(2);
        assertThat(slash.err()).contains("virtual host");
        Path file = Files.writeString(dir.resolve("file"), "");
        ZtRun.Result outIsFile = inProcess("render", "redis", "--policy", policy(), "--out", file);
        assertThat(outIsFile.exit()).as(outIsFile.toString()).isEqualTo(2);
        assertThat(outIsFile.err().strip()).doesNotContain("\n").contains("is a file");
    }
}
