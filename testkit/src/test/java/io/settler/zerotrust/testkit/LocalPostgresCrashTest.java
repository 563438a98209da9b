package io.settler.zerotrust.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import io.settler.zerotrust.pki.DevCertificateAuthority;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** kill -9 of the whole server: what it acknowledged is still there, and restart() waits for a real server. */
class LocalPostgresCrashTest {

    private static final int WRITERS = 2;
    private static final int ACKNOWLEDGED_BEFORE_CRASH = 300;

    @Test
    void everyAcknowledgedInsertSurvivesKill9() throws Exception {
        try (LocalPostgres postgres = LocalPostgres.builder(DevCertificateAuthority.create("crash.test")).start()) {
            assertThat(postgres.durable()).isTrue();
            createTable(postgres);
            Set<Long> acknowledged = ConcurrentHashMap.newKeySet();
            AtomicLong ids = new AtomicLong();
            ExecutorService writers = Executors.newFixedThreadPool(WRITERS);
            try {
                List<Future<?>> running = new ArrayList<>();
                for (int w = 0; w < WRITERS; w++) {
                    running.add(writers.submit(() -> insertUntilCut(postgres, ids, acknowledged)));
                }
                while (acknowledged.size() < ACKNOWLEDGED_BEFORE_CRASH && running.stream().noneMatch(Future::isDone)) {
                    Thread.sleep(5);
                }
                postgres.crash(); // mid-stream: the writers are still inserting
                for (Future<?> writer : running) {
                    writer.get(30, TimeUnit.SECONDS);
                }
            } finally {
                writers.shutdownNow();
            }
            assertThat(acknowledged).hasSizeGreaterThanOrEqualTo(ACKNOWLEDGED_BEFORE_CRASH);

            postgres.restart();

            assertThat(storedIds(postgres)).containsAll(acknowledged);
        }
    }

    @Test
    void restartAfterKill9ReturnsAServerThatAnswersAQuery() throws Exception {
        try (LocalPostgres postgres = LocalPostgres.builder(DevCertificateAuthority.create("crash.test")).start()) {
            createTable(postgres);
            postgres.executeAsSuperuser("crashed", "INSERT INTO acked SELECT generate_series(1, 1000)");
            ProcessHandle before = postgres.process();

            postgres.crash();
            assertThat(before.isAlive()).isFalse();
            postgres.restart();

            // At once, no retry: restart() returned, so the server answers.
            assertThat(storedIds(postgres)).hasSize(1000);
            assertThat(postgres.process().pid()).isNotEqualTo(before.pid());
        }
    }

    private static void createTable(LocalPostgres postgres) {
        postgres.createRole("writer");
        postgres.createDatabase("crashed", "writer");
        postgres.executeAsSuperuser("crashed", "CREATE TABLE acked (id bigint PRIMARY KEY);"
                + " ALTER TABLE acked OWNER TO writer");
    }

    /** Autocommit inserts; an id counts as acknowledged once executeUpdate returned. Stops when the server dies. */
    private static void insertUntilCut(LocalPostgres postgres, AtomicLong ids, Set<Long> acknowledged) {
        try (Connection connection = postgres.connect("crashed", "writer");
             PreparedStatement insert = connection.prepareStatement("INSERT INTO acked (id) VALUES (?)")) {
            while (true) {
                long id = ids.incrementAndGet();
                insert.setLong(1, id);
                insert.executeUpdate();
                acknowledged.add(id);
            }
        } catch (SQLException expected) {
            // the server was killed
        }
    }

    private static Set<Long> storedIds(LocalPostgres postgres) throws SQLException {
        Set<Long> stored = new HashSet<>();
        try (Connection connection = postgres.connect("crashed", "writer");
             ResultSet rows = connection.createStatement().executeQuery("SELECT id FROM acked")) {
            while (rows.next()) {
                stored.add(rows.getLong(1));
            }
        }
        return stored;
    }
}
