package io.settler.zerotrust.cli.render;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.settler.zerotrust.policy.Policy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ServerConfigRendererTest {

    private static final Policy POLICY = Policy.builder("example.org")
            .service("api", api -> api.scopes("db:read", "redis:api:write", "queue:jobs:publish"))
            .service("orders-db", db -> db.acceptService("api"))
            .build();

    @TempDir
    Path dir;

    @Test
    void withoutADatabaseServiceRendersRedisOnly() {
        List<String> progress = new ArrayList<>();
        ServerConfigRenderer.Rendered rendered = ServerConfigRenderer.builder(POLICY).build().writeTo(dir,
                progress::add);
        assertThat(rendered.postgres()).isEmpty();
        assertThat(dir.resolve("rendered/pg_hba.conf")).doesNotExist();
        assertThat(dir.resolve("rendered/users.acl")).content().contains("user api")
                .contains("user " + ServerConfigRenderer.GROUP_SETUP_USER);
        assertThat(dir.resolve("rendered/SETUP.txt")).content().doesNotContain("psql");
        assertThat(progress).singleElement().asString().startsWith("rendered users.acl, redis.conf, SETUP.txt");
    }

    @Test
    void withADatabaseServiceRendersPostgresForThatDatabase() {
        ServerConfigRenderer.Rendered rendered = ServerConfigRenderer.builder(POLICY).database("orders-db", "orders")
                .build().writeTo(dir, line -> { });
        assertThat(rendered.postgres()).isPresent();
        assertThat(dir.resolve("rendered/orders-db.sql")).exists();
        assertThat(dir.resolve("rendered/SETUP.txt")).content().contains("psql -d orders -f rendered/orders-db.sql");
    }

    @Test
    void withoutRedisRendersPostgresAlone() {
        List<String> progress = new ArrayList<>();
        ServerConfigRenderer.Rendered rendered = ServerConfigRenderer.builder(POLICY).database("orders-db", "orders")
                .withoutRedis().build().writeTo(dir, progress::add);
        assertThat(rendered.acl()).isEmpty();
        assertThat(rendered.postgres()).isPresent();
        assertThat(dir.resolve("rendered/pg_hba.conf")).exists();
        assertThat(dir.resolve("rendered/users.acl")).doesNotExist();
        assertThat(dir.resolve("rendered/redis.conf")).doesNotExist();
        assertThat(dir.resolve("api.redis-password")).doesNotExist();
        assertThat(dir.resolve("rendered/SETUP.txt")).content().doesNotContain("redis", "Redis");
        assertThat(progress).singleElement().asString()
                .startsWith("rendered pg_hba.conf, pg_ident.conf, orders-db.sql, SETUP.txt");
        assertThatThrownBy(() -> ServerConfigRenderer.builder(POLICY).withoutRedis().build())
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("renders nothing");
    }

    @Test
    void theDriftCheckRendersTheAclWithThePasswordsWrittenAndTheGroupSetupUserOnlyIfItHasOne() throws Exception {
        ServerConfigRenderer renderer = ServerConfigRenderer.builder(POLICY).build();
        renderer.writeTo(dir, line -> { });
        assertThat(renderer.redisUsers()).containsExactly("api", ServerConfigRenderer.GROUP_SETUP_USER);
        Path apiPassword = ServerConfigRenderer.passwordFile(dir, "api");
        assertThat(apiPassword).exists();
        String written = Files.readString(dir.resolve("rendered/users.acl"));
        char[] api = Files.readString(apiPassword).toCharArray();
        char[] setup = Files.readString(ServerConfigRenderer.passwordFile(dir, ServerConfigRenderer.GROUP_SETUP_USER))
                .toCharArray();
        assertThat(renderer.redisAcl(Map.of("api", api, ServerConfigRenderer.GROUP_SETUP_USER, setup))
                .aclFile().lines().sorted().toList()).isEqualTo(written.lines().sorted().toList());
        assertThat(renderer.redisAcl(Map.of("api", api)).users())
                .doesNotContain(ServerConfigRenderer.GROUP_SETUP_USER);
    }

    @Test
    void refusesToWriteUnderAFile() throws Exception {
        Path file = Files.writeString(dir.resolve("file"), "");
        assertThatThrownBy(() -> ServerConfigRenderer.builder(POLICY).build().writeTo(file.resolve("out"), line -> { }))
                .isInstanceOfSatisfying(RenderException.class,
                        e -> assertThat(e.reason()).isEqualTo(RenderException.Reason.NOT_A_DIRECTORY));
    }
}
