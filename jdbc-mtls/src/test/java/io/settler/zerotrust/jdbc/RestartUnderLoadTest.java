package io.settler.zerotrust.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import io.settler.zerotrust.credentials.CredentialSource;
import io.settler.zerotrust.pki.DevCertificateAuthority;
import io.settler.zerotrust.testkit.LocalPostgres;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** PostgreSQL restarted under tenant-scoped load: the pool recovers and never returns another tenant's rows. */
class RestartUnderLoadTest {

    private static final String DATABASE = "jd_restart";
    private static final String OWNER = "jd_restart_owner";
    private static final String APP = "jd_restart_app";
    private static final int WORKERS = 4;
    private static final int SCOPES_PER_WORKER = 300;

    @Test
    void poolRecoversAfterRestartWithoutReturningAnotherTenantsRows() throws Exception {
        DevCertificateAuthority ca = DevCertificateAuthority.create("restart.test");
        try (LocalPostgres postgres = LocalPostgres.builder(ca).start()) {
            postgres.createRole(OWNER);
            postgres.createRole(APP);
            postgres.createDatabase(DATABASE, OWNER);
            postgres.executeAsSuperuser("GRANT CONNECT ON DATABASE " + DATABASE + " TO " + APP);
            postgres.executeAsSuperuser(DATABASE, TenantScopeTest.rlsSchema(OWNER, APP)
                    + "\nINSERT INTO orders (tenant_id, item) VALUES ('tenant-a', 'apples'), ('tenant-b', 'bananas');");
            CredentialSource credentials = Fixtures.credentials(postgres, APP);
            try (PostgresMtlsDataSource dataSource = PostgresMtlsDataSource.builder()
                    .host(postgres.host()).port(postgres.port()).database(DATABASE).role(APP)
                    .credentials(credentials).maximumPoolSize(WORKERS).connectionTimeout(Duration.ofSeconds(20))
                    .build()) {
                TenantScope tenants = TenantScope.of(dataSource);
                AtomicInteger done = new AtomicInteger();
                AtomicInteger failed = new AtomicInteger();
                AtomicInteger succeededAfterRestart = new AtomicInteger();
                AtomicInteger wrongTenant = new AtomicInteger();
                AtomicInteger restarted = new AtomicInteger();
                ExecutorService workers = Executors.newFixedThreadPool(WORKERS);
                List<Future<?>> running = new ArrayList<>();
                for (int w = 0; w < WORKERS; w++) {
                    int worker = w;
                    running.add(workers.submit(() -> {
                        for (int i = 0; i < SCOPES_PER_WORKER; i++) {
                            String tenant = (i + worker) % 2 == 0 ? "tenant-a" : "tenant-b";
                            String expected = tenant.equals("tenant-a") ? "apples" : "bananas";
                            try {
                                List<String> items = tenants.call(tenant, c -> {
                                    List<String> seen = new ArrayList<>();
                                    try (PreparedStatement select = c.prepareStatement("select item from orders");
                                         ResultSet rows = select.executeQuery()) {
                                        while (rows.next()) {
                                            seen.add(rows.getString(1));
                                        }
                                    }
                                    return seen;
                                });
                                if (!items.equals(List.of(expected))) {
                                    wrongTenant.incrementAndGet();
                                }
                                if (restarted.get() > 0) {
                                    succeededAfterRestart.incrementAndGet();
                                }
                            } catch (SQLException e) {
                                failed.incrementAndGet(); // connections cut by the restart
                            }
                            done.incrementAndGet();
                        }
                    }));
                }
                while (done.get() < WORKERS * SCOPES_PER_WORKER / 3 && running.stream().anyMatch(f -> !f.isDone())) {
                    Thread.onSpinWait();
                }
                postgres.restart();
                restarted.set(1);
                for (Future<?> future : running) {
                    future.get(3, TimeUnit.MINUTES);
                }
                workers.shutdown();

                assertThat(wrongTenant).hasValue(0);
                assertThat(succeededAfterRestart.get()).isPositive();
                assertThat(failed.get()).isLessThan(WORKERS * SCOPES_PER_WORKER / 2);
                String seenByB = tenants.call("tenant-b", c -> {
                    try (ResultSet row = c.createStatement().executeQuery("select string_agg(item, ',') from orders")) {
                        row.next();
                        return row.getString(1);
                    }
                });
                assertThat(seenByB).isEqualTo("bananas");
            }
        }
    }
}
