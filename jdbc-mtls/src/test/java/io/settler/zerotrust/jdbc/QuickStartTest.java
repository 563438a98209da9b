package io.settler.zerotrust.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import io.settler.zerotrust.credentials.FileCredentialSource;
import io.settler.zerotrust.testkit.LocalPostgres;
import io.settler.zerotrust.testkit.TlsPostgres;
import java.nio.file.Path;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The README's quick start, as written, against the test server. */
@TlsPostgres
class QuickStartTest {

    @TempDir
    Path tls;

    @Test
    void readmeQuickStartRuns(LocalPostgres postgres) throws Exception {
        postgres.createRole("qs_owner");
        postgres.createRole("api");
        postgres.createDatabase("orders", "qs_owner");
        postgres.executeAsSuperuser("GRANT CONNECT ON DATABASE orders TO api");
        postgres.executeAsSuperuser("orders", TenantScopeTest.rlsSchema("qs_owner", "api")
                + "\nINSERT INTO orders (tenant_id, item) VALUES ('tenant-42', 'books'), ('tenant-7', 'pens');");
        postgres.clientCertificate("api").writePem(tls, "tls");

        // --- README quick start (paths and host from the test server) ---
        FileCredentialSource credentials = FileCredentialSource.builder(
                tls.resolve("tls.crt"), tls.resolve("tls.key"), tls.resolve("ca.crt")).start();

        PostgresMtlsDataSource orders = PostgresMtlsDataSource.builder()
                .host(postgres.host()).port(postgres.port()).database("orders").role("api")
                .credentials(credentials)
                .maximumPoolSize(8)
                .statementTimeout(Duration.ofSeconds(30))
                .build();

        TenantScope tenants = TenantScope.of(orders);
        List<String> items = tenants.call("tenant-42", connection -> {
            List<String> found = new ArrayList<>();
            try (ResultSet rows = connection.createStatement().executeQuery("select item from orders")) {
                while (rows.next()) {
                    found.add(rows.getString(1));
                }
            }
            return found;
        });
        // --- end ---

        assertThat(items).containsExactly("books");
        orders.close();
        credentials.close();
    }
}
