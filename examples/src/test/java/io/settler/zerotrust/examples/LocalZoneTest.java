package io.settler.zerotrust.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.api.StatefulRedisConnection;
import io.settler.zerotrust.credentials.FileCredentialSource;
import io.settler.zerotrust.jdbc.InsecureDataSourceException;
import io.settler.zerotrust.jdbc.PostgresMtlsDataSource;
import io.settler.zerotrust.jdbc.TenantScope;
import io.settler.zerotrust.redis.HardenedRedis;
import io.settler.zerotrust.redis.RedisAcl;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The demo's Zone 2: servers configured from the policy admit exactly what the policy says. */
class LocalZoneTest {

    @TempDir
    static Path directory;
    static LocalZone zone;

    @BeforeAll
    static void start() {
        zone = LocalZone.start(directory, line -> { });
    }

    @AfterAll
    static void stop() {
        zone.close();
    }

    @Test
    void writesEveryServicesCredentialsAndOnlyTheRedisUsersPasswords() {
        for (String service : LocalZone.SERVICES) {
            assertThat(directory.resolve(service + ".crt")).exists();
            assertThat(directory.resolve(service + ".key")).exists();
        }
        assertThat(directory.resolve("api.redis-password")).exists();
        assertThat(directory.resolve("worker.redis-password")).exists();
        assertThat(directory.resolve("gateway.redis-password")).doesNotExist();
        assertThat(Files.exists(directory.resolve("endpoints.properties"))).isTrue();
    }

    @Test
    void writesTheServerConfigurationItRenderedFromThePolicy() throws Exception {
        Path rendered = directory.resolve("rendered");
        assertThat(Files.readString(rendered.resolve("pg_hba.conf")))
                .contains("hostssl \"orders\" \"api\" 127.0.0.1/32 cert",
                        "hostssl \"orders\" \"worker\" 127.0.0.1/32 cert");
        assertThat(Files.readString(rendered.resolve("pg_ident.conf")))
                .contains("\"spiffe://demo.settler.test/api\" \"api\"",
                        "\"spiffe://demo.settler.test/worker\" \"worker\"");
        assertThat(Files.readString(rendered.resolve("users.acl")))
                .contains("user default off", "user api on #", "user worker on #")
                .doesNotContain("user gateway", "user webhook");
        assertThat(Files.readString(rendered.resolve("orders-db.sql"))).contains("FORCE ROW LEVEL SECURITY");
    }

    @Test
    void preparesTheFilesForServersOfYourOwn(@TempDir Path prepared) throws Exception {
        LocalZone.prepare(prepared, line -> { });
        assertThat(prepared.resolve("orders-db-server.crt")).exists();
        assertThat(prepared.resolve("redis-server.key")).exists();
        assertThat(Files.readString(prepared.resolve("rendered/redis.conf")))
                .contains("port 0", "tls-port 6380", "tls-auth-clients yes",
                        "aclfile \"" + prepared.resolve("rendered/users.acl") + "\"");
        assertThat(Files.readString(prepared.resolve("rendered/schema.sql"))).contains("CREATE TABLE orders");
        Deployment deployment = Deployment.at(prepared);
        assertThat(deployment.address("redis").getPort()).isEqualTo(6380);
        assertThat(deployment.endpoint("postgres.database")).isEqualTo("orders");
    }

    @Test
    void theApiConnectsToPostgresAsItsRoleAndTheGatewayIsRejected() throws Exception {
        Deployment deployment = Deployment.at(directory);
        try (FileCredentialSource api = deployment.credentials("api");
             PostgresMtlsDataSource pool = pool(deployment, "api", api);
             ResultSet row = pool.getConnection().createStatement().executeQuery("select current_user")) {
            row.next();
            assertThat(row.getString(1)).isEqualTo("api");
        }
        try (FileCredentialSource gateway = deployment.credentials("gateway")) {
            assertThatThrownBy(() -> pool(deployment, "gateway", gateway).close())
                    .isInstanceOf(InsecureDataSourceException.class);
        }
    }

    @Test
    void theApiIsARedisUserThatCannotReadTheQueueOrAnotherServicesKeys() {
        Deployment deployment = Deployment.at(directory);
        try (FileCredentialSource credentials = deployment.credentials("api");
             HardenedRedis redis = deployment.redis("api", credentials).build();
             StatefulRedisConnection<String, String> connection = redis.connect()) {
            connection.sync().set("api:probe", "1");
            assertThatThrownBy(() -> connection.sync().xlen(RedisAcl.streamKey(LocalZone.QUEUE, "api")))
                    .isInstanceOf(RedisCommandExecutionException.class).hasMessageContaining("NOPERM");
            assertThatThrownBy(() -> connection.sync().get("worker:probe"))
                    .isInstanceOf(RedisCommandExecutionException.class).hasMessageContaining("NOPERM");
        }
    }

    @Test
    void theOutboxIsTenantScopedAndOnlyTheApiLearnsWhichTenantsHaveJobsToPublish() throws Exception {
        zone.postgres().executeAsSuperuser(LocalZone.DATABASE, "with o as (insert into orders (tenant_id, item)"
                + " values ('tenant-x', 'x'), ('tenant-y', 'y') returning id, tenant_id)"
                + " insert into outbox (tenant_id, order_id) select tenant_id, id from o");
        Deployment deployment = Deployment.at(directory);
        try (FileCredentialSource api = deployment.credentials("api");
             PostgresMtlsDataSource pool = pool(deployment, "api", api)) {
            List<String> scoped = TenantScope.of(pool).call("tenant-x", connection -> strings(connection,
                    "select o.tenant_id || ' ' || r.item from outbox o join orders r on r.id = o.order_id"));
            assertThat(scoped).as("tenant-x's outbox").containsExactly("tenant-x x");
            assertThat(unscoped(pool, "select count(*)::text from outbox"))
                    .as("outside a tenant's scope").containsExactly("0");
            assertThat(unscoped(pool, "select * from " + LocalZone.PENDING_TENANTS_FUNCTION))
                    .as("the relay's one look across tenants: tenant ids").contains("tenant-x", "tenant-y");
        }
        try (FileCredentialSource worker = deployment.credentials("worker");
             PostgresMtlsDataSource pool = pool(deployment, "worker", worker)) {
            assertThatThrownBy(() -> unscoped(pool, "select * from " + LocalZone.PENDING_TENANTS_FUNCTION))
                    .as("not granted to a service that does not publish jobs")
                    .isInstanceOf(SQLException.class).hasMessageContaining("permission denied");
        }
    }

    /** The first column of every row {@code query} returns on a connection of {@code pool}, outside any scope. */
    private static List<String> unscoped(PostgresMtlsDataSource pool, String query) throws SQLException {
        try (Connection connection = pool.getConnection()) {
            return strings(connection, query);
        }
    }

    /** The first column of every row {@code query} returns. */
    private static List<String> strings(Connection connection, String query) throws SQLException {
        try (Statement statement = connection.createStatement(); ResultSet rows = statement.executeQuery(query)) {
            List<String> values = new ArrayList<>();
            while (rows.next()) {
                values.add(rows.getString(1));
            }
            return values;
        }
    }

    private static PostgresMtlsDataSource pool(Deployment deployment, String role, FileCredentialSource credentials) {
        return deployment.postgres(role, credentials).maximumPoolSize(1).build();
    }
}
