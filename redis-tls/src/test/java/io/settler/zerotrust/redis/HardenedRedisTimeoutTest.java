package io.settler.zerotrust.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.lettuce.core.RedisCommandTimeoutException;
import io.lettuce.core.api.StatefulRedisConnection;
import io.settler.zerotrust.testkit.LocalRedis;
import io.settler.zerotrust.testkit.RecordingAuditLog;
import io.settler.zerotrust.testkit.TlsRedis;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Redis frozen with SIGSTOP: a command fails within the command timeout and succeeds once the
 * server resumes; a connect fails within its timeouts; no duration becomes "no limit".
 */
@TlsRedis
class HardenedRedisTimeoutTest {

    private static final String USER = "rt_waits";
    private static final String PASSWORD = "rt-waits-secret-51c0d2";
    /** Long enough that a call bounded only by the freeze is told apart from one bounded by the client. */
    private static final Duration FREEZE = Duration.ofSeconds(8);
    /** Well before the freeze ends; the bounds under test are at most 2 s. */
    private static final Duration WELL_BEFORE_THE_FREEZE_ENDS = Duration.ofSeconds(6);

    @TempDir
    Path dir;

    private final RecordingAuditLog audit = RecordingAuditLog.logging();

    @BeforeAll
    static void createUser(LocalRedis redis) {
        redis.createUser(USER, PASSWORD, "~rtw:* " + RedisTestSupport.RULES);
    }

    private HardenedRedis.Builder builder(LocalRedis redis) throws IOException {
        return RedisTestSupport.builder(redis, USER, RedisTestSupport.passwordFile(dir, PASSWORD), audit);
    }

    @Test
    @SuppressWarnings("try") // the freeze need only last the block
    void commandOnAFrozenServerFailsWithinTheCommandTimeoutThenSucceedsAfterResume(LocalRedis redis)
            throws Exception {
        try (HardenedRedis client = builder(redis).commandTimeout(Duration.ofSeconds(2)).build();
             StatefulRedisConnection<String, String> connection = client.connect()) {
            connection.sync().set("rtw:key", "before");
            long started;
            try (Freeze freeze = new Freeze(redis)) {
                started = System.nanoTime();
                assertThatThrownBy(() -> connection.sync().get("rtw:key"))
                        .isInstanceOf(RedisCommandTimeoutException.class)
                        .hasMessageContaining("2 second");
            }
            assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(WELL_BEFORE_THE_FREEZE_ENDS);

            assertThat(connection.sync().get("rtw:key")).isEqualTo("before");
            connection.sync().set("rtw:key", "after");
            assertThat(connection.sync().get("rtw:key")).isEqualTo("after");
        }
    }

    @Test
    @SuppressWarnings("try") // the freeze need only last the block
    void subMillisecondConnectTimeoutIsOneMillisecondNotUnlimited(LocalRedis redis) throws Exception {
        try (HardenedRedis warmUp = builder(redis).build();
             StatefulRedisConnection<String, String> connection = warmUp.connect()) {
            connection.sync().ping(); // loads the TLS classes, which a loaded machine needs seconds for
        }
        audit.clear();
        try (HardenedRedis client = builder(redis).connectTimeout(Duration.ofNanos(500_000))
                .commandTimeout(Duration.ofNanos(500_000)).build()) {
            assertThat(audit.withAction("redis.client.posture")).singleElement().satisfies(e -> assertThat(e.fields())
                    .containsEntry("connect_timeout", "PT0.001S").containsEntry("command_timeout", "PT0.001S"));
            long started;
            try (Freeze freeze = new Freeze(redis)) {
                started = System.nanoTime();
                assertThatThrownBy(client::connect).isInstanceOf(RedisTlsException.class)
                        .hasMessageContaining("connectTimeout PT0.001S");
            }
            assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(WELL_BEFORE_THE_FREEZE_ENDS);
            assertThat(audit.withAction("redis.refused")).isNotEmpty();
        }
    }

    @Test
    void zeroOrNegativeTimeoutsAreRefused(LocalRedis redis) throws IOException {
        HardenedRedis.Builder builder = builder(redis);
        for (Duration invalid : List.of(Duration.ZERO, Duration.ofMillis(-1))) {
            assertThatThrownBy(() -> builder.commandTimeout(invalid))
                    .isInstanceOfSatisfying(RedisTlsException.class, e -> assertThat(e.reason())
                            .isEqualTo(RedisTlsException.Reason.INVALID_CONFIGURATION))
                    .hasMessageContaining("commandTimeout must be positive");
            assertThatThrownBy(() -> builder.connectTimeout(invalid))
                    .isInstanceOf(RedisTlsException.class).hasMessageContaining("connectTimeout must be positive");
        }
    }

    /**
     * The testkit Redis frozen with SIGSTOP, resumed (SIGCONT) on close or after {@link #FREEZE}
     * at the latest, even if the call under test never returns by itself.
     */
    private static final class Freeze implements AutoCloseable {
        private final ProcessHandle server;
        private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();

        Freeze(LocalRedis redis) throws IOException, InterruptedException {
            this.server = serverProcess(redis);
            signal("STOP");
            timer.schedule(() -> signal("CONT"), FREEZE.toMillis(), TimeUnit.MILLISECONDS);
        }

        @Override
        public void close() {
            timer.shutdownNow();
            signal("CONT");
        }

        private void signal(String signal) {
            try {
                Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(server.pid()))
                        .inheritIO().start();
                if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
                    throw new IllegalStateException("kill -" + signal + " " + server.pid() + " failed");
                }
            } catch (IOException e) {
                throw new IllegalStateException("cannot run kill", e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted", e);
            }
        }

        /**
         * The redis-server this JVM started for {@code redis}: Redis rewrites its command line to
         * its title, {@code <program> 127.0.0.1:<port>} (the program is a link to redis-check-rdb).
         */
        private static ProcessHandle serverProcess(LocalRedis redis) {
            String title = "127.0.0.1:" + redis.tlsPort();
            return ProcessHandle.current().descendants()
                    .filter(p -> {
                        List<String> line = commandLine(p);
                        return line.size() == 2 && line.get(0).endsWith("redis-server") && line.get(1).equals(title);
                    })
                    .findFirst()
                    .orElseThrow(() -> new IllegalStateException("no redis-server " + title + " among this JVM's"
                            + " processes"));
        }

        private static List<String> commandLine(ProcessHandle process) {
            try {
                String raw = Files.readString(Path.of("/proc", Long.toString(process.pid()), "cmdline"));
                return List.of(raw.replace('\0', ' ').trim().split("\\s+"));
            } catch (IOException e) {
                return List.of(); // gone meanwhile
            }
        }
    }
}
