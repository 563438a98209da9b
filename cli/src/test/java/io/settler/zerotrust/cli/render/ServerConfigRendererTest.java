package io.settler.zerotrust.cli.render;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.settler.zerotrust.policy.Policy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
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
    void refusesToWriteUnderAFile() throws Exception {
        Path file = Files.writeString(dir.resolve("file"), "");
        assertThatThrownBy(() -> ServerConfigRenderer.builder(POLICY).build().writeTo(file.resolve("out"), line -> { }))
                .isInstanceOfSatisfying(RenderException.class,
                        e -> assertThat(e.reason()).isEqualTo(RenderException.Reason.NOT_A_DIRECTORY));
    }
}
