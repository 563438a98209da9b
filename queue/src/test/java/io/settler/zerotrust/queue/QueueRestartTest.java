package io.settler.zerotrust.queue;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import io.lettuce.core.Range;
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
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** 10,000 messages through a restart of a Redis with an append-only file: none lost, none handled twice. */
class QueueRestartTest {

    private static final int MESSAGES = 10_000;
    private static final Map<String, String> PASSWORDS = Map.of("api", "restart-api-secret",
            "billing", "restart-billing-secret", "worker", "restart-worker-secret", "operator", "restart-operator-secret");

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
    void tenThousandMessagesThroughARestartWithAppendOnlyFileNoneLostNoneHandledTwice() throws Exception {
        redis = LocalRedis.builder(DevCertificateAuthority.create("queue.test")).appendOnly(true).start();
        Fixtures.loadRenderedAcl(redis, PASSWORDS, "~queue:* +xgroup|create +xrange +xlen"
                + " +acl|whoami +client|info +@connection"); // also saves the ACL file

        Map<String, Integer> handled = new ConcurrentHashMap<>(); // payload -> times handled
        AtomicBoolean crashOnce = new AtomicBoolean(true);
        MessageHandler handler = message -> {
            String payload = new String(message.payload(), UTF_8);
            if (payload.equals("3000") && crashOnce.getAndSet(false)) {
                throw new IllegalStateException("worker dies before handling 3000");
            }
            handled.merge(payload, 1, Integer::sum);
        };

        Session first = new Session(handler);
        QueueConsumer.createGroup(first.operator, first.verifier, "workers");
        for (int i = 0; i < 6_000; i++) {
            first.publisher.publish(Integer.toString(i).getBytes(UTF_8));
        }
        while (handled.size() < 4_000) {
            first.consumer.poll();
        }
        closeConnections();

        String deliveredBefore = lastDeliveredId();
        redis.restart();

        Session second = new Session(handler);
        for (int i = 6_000; i < MESSAGES; i++) {
            second.publisher.publish(Integer.toString(i).getBytes(UTF_8));
        }
        for (int round = 0; round < 10 * MESSAGES && handled.size() < MESSAGES; round++) {
            second.consumer.poll();
        }

        assertThat(handled.keySet()).isEqualTo(IntStream.range(0, MESSAGES).mapToObj(Integer::toString)
                .collect(Collectors.toSet()));
        assertThat(handled.values()).allMatch(times -> times == 1);
        assertThat(second.worker.xpending(RedisAcl.streamKey("jobs", "api"), "workers").getCount()).isZero();
        // Redis 7.0 may come back with the group's last-delivered-id rolled back: entries acknowledged
        // before the restart are then delivered again as new. The shared replay guard (persisted too)
        // refuses them, so they are dead-lettered as REPLAYED instead of running twice.
        var deadLetters = second.operator.xrange(RedisAcl.deadLetterKey("jobs"), Range.create("-", "+"));
        assertThat(deadLetters).allSatisfy(entry -> {
            assertThat(entry.getBody()).containsEntry("reason", "REPLAYED");
            assertThat(StreamState.compare(entry.getBody().get("entry"), deliveredBefore)).isLessThanOrEqualTo(0);
        });
        assertThat(fixtures.audit.named("queue.handler_failed")).hasSize(1);
        // A rolled-back group may find its last delivered entry trimmed (reported), but nothing is lost.
        assertThat(fixtures.audit.named("queue.stream_shrank")).allSatisfy(event ->
                assertThat(event.fields()).containsEntry("lost", "0"));
        second.consumer.poll(); // housekeeping after the last entry was handled
        assertThat(second.operator.xlen(RedisAcl.streamKey("jobs", "api"))).as("handled entries trimmed").isEqualTo(1);
    }

    private String lastDeliveredId() {
        List<String> info = List.of(redis.executeAsAdmin("XINFO", "GROUPS", RedisAcl.streamKey("jobs", "api")).split("\n"));
        return info.get(info.indexOf("last-delivered-id") + 1);
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
                    .batchSize(200).claimAfter(Duration.ZERO).auditLog(fixtures.audit).build();
        }
    }

    private RedisCommands<String, String> connectAs(String user) {
        HardenedRedis client = Fixtures.redisClient(redis, user, PASSWORDS.get(user), dir).build();
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
