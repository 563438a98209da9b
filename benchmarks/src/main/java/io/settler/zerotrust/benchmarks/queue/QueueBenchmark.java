package io.settler.zerotrust.benchmarks.queue;

import io.lettuce.core.Consumer;
import io.lettuce.core.StreamMessage;
import io.lettuce.core.XGroupCreateArgs;
import io.lettuce.core.XReadArgs;
import io.lettuce.core.api.sync.RedisCommands;
import io.settler.zerotrust.audit.AuditLog;
import io.settler.zerotrust.benchmarks.redis.BenchmarkRedis;
import io.settler.zerotrust.pki.DevCertificateAuthority;
import io.settler.zerotrust.queue.EnvelopeSigner;
import io.settler.zerotrust.queue.EnvelopeVerifier;
import io.settler.zerotrust.queue.QueueConsumer;
import io.settler.zerotrust.queue.QueuePublisher;
import io.settler.zerotrust.redis.KeyNamespace;
import io.settler.zerotrust.redis.RedisReplayGuard;
import io.settler.zerotrust.token.KeySet;
import io.settler.zerotrust.token.ServiceTokens;
import io.settler.zerotrust.token.TokenAlgorithm;
import io.settler.zerotrust.token.TokenKey;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * One 256-byte message through a queue, synchronously, on one hardened TLS 1.3 connection to the
 * testkit's Redis on loopback (started once per trial; all variants use the same server).
 *
 * <p>{@code baseline}: raw Lettuce {@code XADD}, {@code XREADGROUP COUNT 1}, {@code XACK} of the
 * same payload. {@code queueHs256} / {@code queueEd25519}: {@link QueuePublisher#publish} (mint a
 * one-time token) plus {@link QueueConsumer#poll} (XREADGROUP, MGET, the lease's {@code SET NX},
 * verify, the replay guard's {@code SET NX GET}, handle, the handled record's {@code SET}, XACK;
 * housekeeping at most once a second). {@code queueHs256Batch}: 32 publishes, then one poll of a
 * consumer with that batch size, counted per message: for the batch one XREADGROUP, one MGET, one
 * pipelined round trip for the leases and replay checks, the handled records (pipelined, awaited
 * together) and one XACK; per message only its XADD. Higher is better (messages per second).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class QueueBenchmark {

    private static final String API = "spiffe://bench.test/api";
    private static final byte[] PAYLOAD = "p".repeat(256).getBytes(StandardCharsets.UTF_8);
    private static final String RAW_STREAM = "queue:{raw}:api";
    /** Messages per poll of {@link #queueHs256Batch}. */
    private static final int BATCH = 32;

    private BenchmarkRedis redis;
    private RedisCommands<String, String> commands;
    private Map<String, String> rawFields;
    private Consumer<String> rawConsumer;
    private QueuePublisher hsPublisher;
    private QueueConsumer hsConsumer;
    private QueuePublisher hsBatchPublisher;
    private QueueConsumer hsBatchConsumer;
    private QueuePublisher edPublisher;
    private QueueConsumer edConsumer;

    /** Starts Redis, connects, creates the groups. */
    @Setup
    public void setUp() throws Exception {
        redis = new BenchmarkRedis(DevCertificateAuthority.create("bench.test"), "~queue:* ~bench:* +xadd +xreadgroup"
                + " +xack +xautoclaim +xpending +xinfo|stream +xinfo|groups +xtrim +xrange +xgroup|create +set +mget"
                + " +getdel");
        commands = redis.commands();

        rawFields = Map.of("pld", new String(PAYLOAD, StandardCharsets.UTF_8));
        commands.xgroupCreate(XReadArgs.StreamOffset.from(RAW_STREAM, "0"), "workers",
                XGroupCreateArgs.Builder.mkstream());
        rawConsumer = Consumer.from("workers", "w1");

        TokenKey hs = TokenKey.hs256("api-hs", "0123456789abcdef0123456789abcdef".getBytes(StandardCharsets.US_ASCII));
        hsPublisher = publisher("hs", hs);
        hsConsumer = consumer("hs", hs, 1);
        hsBatchPublisher = publisher("hsb", hs);
        hsBatchConsumer = consumer("hsb", hs, BATCH);
        TokenKey ed = TokenKey.generate(TokenAlgorithm.ED25519, "api-ed");
        edPublisher = publisher("ed", ed);
        edConsumer = consumer("ed", ed.verifyOnly(), 1);

        baseline();
        queueHs256();
        queueHs256Batch();
        queueEd25519(); // each must work before anything is measured
    }

    private QueuePublisher publisher(String queue, TokenKey key) {
        ServiceTokens api = ServiceTokens.builder().identity(API).signingKey(key).build();
        return QueuePublisher.of(commands, EnvelopeSigner.builder(api, queue).build());
    }

    private QueueConsumer consumer(String queue, TokenKey key, int batchSize) {
        ServiceTokens queueTokens = ServiceTokens.builder().identity("spiffe://bench.test/queue/" + queue)
                .verificationKeys(KeySet.of(key)).trustIssuers(API).auditLog(AuditLog.slf4j()).build();
        EnvelopeVerifier verifier = EnvelopeVerifier.builder(queueTokens, queue).publishers(API)
                .replayGuard(RedisReplayGuard.builder(redis.connection(), KeyNamespace.of("bench")) // pipelines a batch
                        .auditLog(event -> { }).build())
                .auditLog(event -> { }).build();
        QueueConsumer.createGroup(commands, verifier, "workers");
        return QueueConsumer.builder(commands, verifier, message -> { }).group("workers").consumer("w1")
                .batchSize(batchSize).auditLog(event -> { }).build();
    }

    /** Closes the connection and stops Redis. */
    @TearDown
    public void tearDown() throws Exception {
        redis.close();
    }

    /** Raw XADD + XREADGROUP + XACK. */
    @Benchmark
    @SuppressWarnings("unchecked") // Lettuce's generic varargs of stream offsets
    public long baseline() {
        commands.xadd(RAW_STREAM, rawFields);
        List<StreamMessage<String, String>> read = commands.xreadgroup(rawConsumer, XReadArgs.Builder.count(1),
                XReadArgs.StreamOffset.lastConsumed(RAW_STREAM));
        return commands.xack(RAW_STREAM, "workers", read.get(0).getId());
    }

    /** Publish + poll with HS256 envelopes. */
    @Benchmark
    public int queueHs256() {
        hsPublisher.publish(PAYLOAD);
        return requireOne(hsConsumer.poll());
    }

    /** 32 publishes + one poll with HS256 envelopes; JMH counts each message. */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public int queueHs256Batch() {
        for (int i = 0; i < BATCH; i++) {
            hsBatchPublisher.publish(PAYLOAD);
        }
        int processed = hsBatchConsumer.poll();
        if (processed != BATCH) {
            throw new IllegalStateException("expected " + BATCH + " messages per poll, got " + processed);
        }
        return processed;
    }

    /** Publish + poll with EdDSA (Ed25519) envelopes. */
    @Benchmark
    public int queueEd25519() {
        edPublisher.publish(PAYLOAD);
        return requireOne(edConsumer.poll());
    }

    private static int requireOne(int processed) {
        if (processed != 1) {
            throw new IllegalStateException("expected one message per poll, got " + processed);
        }
        return processed;
    }
}
