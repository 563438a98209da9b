package io.settler.zerotrust.queue;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.lettuce.core.Consumer;
import io.lettuce.core.Range;
import io.lettuce.core.XReadArgs;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.settler.zerotrust.pki.DevCertificateAuthority;
import io.settler.zerotrust.redis.HardenedRedis;
import io.settler.zerotrust.redis.KeyNamespace;
import io.settler.zerotrust.redis.RedisAcl;
import io.settler.zerotrust.redis.RedisReplayGuard;
import io.settler.zerotrust.testkit.LocalRedis;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * 10,000 messages through a crash (kill -9) of a Redis with an append-only file while deliveries are
 * in flight: none lost, none handled twice; and the faults behind it, one by one.
 */
class QueueRestartTest {

    private static final int MESSAGES = 10_000;
    /** Publishers sharing one connection: enough XADDs in flight for Redis to fsync many at once. */
    private static final int PUBLISHING_THREADS = 16;
    /** The workers' lease on a message: a crashed worker's leases lapse this long after it died. */
    private static final Duration LEASE = Duration.ofSeconds(1);
    private static final Map<String, String> PASSWORDS = Map.of("api", "restart-api-secret",
            "billing", "restart-billing-secret", "worker", "restart-worker-secret",
            "operator", "restart-operator-secret");

    @TempDir
    Path dir;

    private final Fixtures fixtures = new Fixtures();
    private final List<AutoCloseable> open = new ArrayList<>();
    private LocalRedis redis;

    @AfterEach
    void close() throws Exception {
        closeConnections();
        if (redis != null) {
            redis.close();
        }
    }

    @Test
    void tenThousandMessagesThroughKillNineOfRedisWithDeliveriesInFlightNoneLostNoneHandledTwice() throws Exception {
        startWithRenderedAcl();
        Map<String, Integer> handled = new ConcurrentHashMap<>(); // payload -> times handled
        AtomicBoolean failOnce = new AtomicBoolean(true);
        AtomicBoolean crashOnce = new AtomicBoolean(true);
        MessageHandler handler = message -> {
            String payload = new String(message.payload(), UTF_8);
            if (payload.equals("3000") && failOnce.getAndSet(false)) {
                throw new IllegalStateException("the handler fails once on 3000");
            }
            if (payload.equals("4321") && crashOnce.getAndSet(false)) {
                redis.kill(); // kill -9 while the rest of this batch is delivered and not acknowledged
                throw new WorkerCrash();
            }
            handled.merge(payload, 1, Integer::sum);
        };

        Session first = new Session(handler);
        QueueConsumer.createGroup(first.operator, first.verifier, "workers");
        publish(first.publisher, 0, 6_000);
        assertThatThrownBy(() -> {
            while (true) {
                first.consumer.poll();
            }
        }).isInstanceOf(WorkerCrash.class);
        Instant crashed = Instant.now();
        closeConnections();
        assertThat(handled).doesNotContainKey("4321");

        redis.restart();
        // The dead worker's leases on the rest of its batch survive the restart (AOF): they lapse after
        // LEASE, and a delivery polled before then would count towards maxDeliveries (claimAfter is 0 here).
        Thread.sleep(Math.max(0, Duration.between(Instant.now(), crashed.plus(LEASE)).toMillis() + 100));

        Session second = new Session(handler);
        publish(second.publisher, 6_000, MESSAGES);
        for (int round = 0; round < 10 * MESSAGES && handled.size() < MESSAGES; round++) {
            second.consumer.poll();
        }

        assertThat(handled.keySet()).isEqualTo(IntStream.range(0, MESSAGES).mapToObj(Integer::toString)
                .collect(Collectors.toSet()));
        assertThat(handled.values()).allMatch(times -> times == 1);
        assertThat(second.worker.xpending(RedisAcl.streamKey("jobs", "api"), "workers").getCount()).isZero();
        assertThat(second.operator.xrange(RedisAcl.deadLetterKey("jobs"), Range.create("-", "+"))).isEmpty();
        assertThat(fixtures.audit.withAction("queue.handler_failed")).hasSize(1);
        assertThat(fixtures.audit.withAction("queue.deliveries_lost")).as("Redis kept every delivery").isEmpty();
        assertThat(fixtures.audit.withAction("queue.stream_shrank")).isEmpty();
        second.consumer.poll(); // housekeeping after the last entry was handled
        assertThat(second.operator.xlen(RedisAcl.streamKey("jobs", "api"))).as("handled entries trimmed").isEqualTo(1);
    }

    @Test
    @SuppressWarnings("unchecked") // Lettuce's generic varargs of stream offsets
    void aofReloadAfterKillNineKeepsTheGroupsDeliveriesInFlight() throws Exception {
        startWithRenderedAcl();
        Session first = new Session(message -> { });
        QueueConsumer.createGroup(first.operator, first.verifier, "workers");
        for (int i = 0; i < 30; i++) {
            first.publisher.publish(Integer.toString(i).getBytes(UTF_8));
        }
        // Deliveries in flight: 20 in one XREADGROUP (Redis logs it as MULTI/EXEC), then 1 alone.
        Consumer<String> worker = Consumer.from("workers", "w1");
        assertThat(first.worker.xreadgroup(worker, XReadArgs.Builder.count(20), XReadArgs.StreamOffset.lastConsumed(
                RedisAcl.streamKey("jobs", "api")))).hasSize(20);
        assertThat(first.worker.xreadgroup(worker, XReadArgs.Builder.count(1), XReadArgs.StreamOffset.lastConsumed(
                RedisAcl.streamKey("jobs", "api")))).hasSize(1);
        closeConnections();

        redis.kill();
        redis.restart();

        Session second = new Session(message -> { });
        assertThat(second.worker.xpending(RedisAcl.streamKey("jobs", "api"), "workers").getCount())
                .as("pending deliveries after the reload (Redis 7.0 drops those the default user may not EXEC)")
                .isEqualTo(21);
    }

    @Test
    void theDefaultUserThatLetsTheAofReloadCannotLogIn() {
        startWithRenderedAcl();
        assertThat(List.of(redis.executeAsAdmin("ACL", "LIST").split("\n"))) // off, no password hash, no nopass
                .anyMatch(line -> line.matches("user default off (sanitize-payload )?~\\* &\\* \\+@all"));
        for (String password : List.of("", "default", "nopass")) {
            assertThatThrownBy(() -> connectAs("default", password)).as(password).isInstanceOf(RuntimeException.class);
        }
    }

    /**
     * Publishes the payloads {@code from} to {@code to} (exclusive), each once, from
     * {@link #PUBLISHING_THREADS} threads sharing the publisher's one connection: Lettuce pipelines
     * their {@code XADD}s and Redis fsyncs the append-only file once per event-loop turn, not once per
     * message. Returns when every {@code publish} returned, that is when Redis fsynced every entry.
     */
    private static void publish(QueuePublisher publisher, int from, int to) throws Exception {
        ExecutorService threads = Executors.newFixedThreadPool(PUBLISHING_THREADS);
        try {
            List<Future<String>> sent = new ArrayList<>();
            for (int i = from; i < to; i++) {
                byte[] payload = Integer.toString(i).getBytes(UTF_8);
                sent.add(threads.submit(() -> publisher.publish(payload)));
            }
            for (Future<String> each : sent) {
                each.get(); // rethrows a failed publish
            }
        } finally {
            threads.shutdownNow();
        }
    }

    private void startWithRenderedAcl() {
        redis = LocalRedis.builder(DevCertificateAuthority.create("queue.test")).appendOnly(true).start();
        Fixtures.loadRenderedAcl(redis, PASSWORDS, "~queue:* +xgroup|create +xrange +xlen"
                + " +acl|whoami +client|info +@connection"); // also saves the ACL file
    }

    /** A worker process dying (with Redis) in the middle of a batch. */
    private static final class WorkerCrash extends Error {
        private static final long serialVersionUID = 1L;
    }

    /** Fresh connections of api, worker and operator, as processes restarted after Redis. */
    private final class Session {
        final RedisCommands<String, String> api = connectAs("api");
        final RedisCommands<String, String> worker = connectAs("worker");
        final RedisCommands<String, String> operator = connectAs("operator");
        final QueuePublisher publisher = QueuePublisher.of(api, fixtures.signer());
        final EnvelopeVerifier verifier = EnvelopeVerifier.builder(fixtures.queueTokens(), "jobs")
                .policy(Fixtures.POLICY).auditLog(fixtures.audit)
                .replayGuard(RedisReplayGuard.builder(worker, KeyNamespace.of("worker")).build()).build();
        final QueueConsumer consumer;

        Session(MessageHandler handler) throws Exception {
            consumer = QueueConsumer.builder(worker, verifier, handler).group("workers").consumer("w1")
                    .batchSize(200).claimAfter(Duration.ZERO).lease(LEASE).auditLog(fixtures.audit).build();
        }
    }

    private RedisCommands<String, String> connectAs(String user) {
        return connectAs(user, PASSWORDS.get(user));
    }

    private RedisCommands<String, String> connectAs(String user, String password) {
        HardenedRedis client = Fixtures.redisClient(redis, user, password, dir).build();
        open.add(client);
        StatefulRedisConnection<String, String> connection = client.connect();
        open.add(connection);
        return connection.sync();
    }

    private void closeConnections() throws Exception {
        for (int i = open.size() - 1; i >= 0; i--) {
            open.get(i).close();
        }
        open.clear();
    }
}
