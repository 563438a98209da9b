package io.settler.zerotrust.benchmarks.queue;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.GetResponse;
import io.settler.zerotrust.audit.AuditLog;
import io.settler.zerotrust.benchmarks.redis.BenchmarkRedis;
import io.settler.zerotrust.credentials.CredentialSource;
import io.settler.zerotrust.credentials.TlsIdentity;
import io.settler.zerotrust.credentials.TrustBundle;
import io.settler.zerotrust.pki.DevCertificateAuthority;
import io.settler.zerotrust.pki.IssuedCertificate;
import io.settler.zerotrust.queue.EnvelopeSigner;
import io.settler.zerotrust.queue.EnvelopeVerifier;
import io.settler.zerotrust.queue.QueueConsumer;
import io.settler.zerotrust.queue.QueuePublisher;
import io.settler.zerotrust.queue.rabbitmq.RabbitMqConnection;
import io.settler.zerotrust.queue.rabbitmq.RabbitMqConnections;
import io.settler.zerotrust.queue.rabbitmq.RabbitMqTransport;
import io.settler.zerotrust.redis.KeyNamespace;
import io.settler.zerotrust.redis.RedisReplayGuard;
import io.settler.zerotrust.testkit.LocalRabbitMq;
import io.settler.zerotrust.tls.MtlsContext;
import io.settler.zerotrust.token.KeySet;
import io.settler.zerotrust.token.ServiceTokens;
import io.settler.zerotrust.token.TokenKey;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * 256-byte messages through RabbitMQ, synchronously, on a testkit RabbitMQ node on loopback (TLS 1.3,
 * login by client certificate with SASL EXTERNAL), started once per trial: {@value #MESSAGES} messages
 * per invocation, counted each, in rounds of {@code batchSize} (publish the round, then take and settle it).
 *
 * <p>{@code baseline}: the raw RabbitMQ client on connections opened the same way (so only the
 * per-message work differs): per message a persistent, {@code mandatory} {@code basic.publish} with the
 * validated {@code user-id} and a random {@code message-id}, waiting for its publisher confirm; then
 * {@code batchSize} {@code basic.get} with manual acknowledgement, each acknowledged with
 * {@code basic.ack}. {@code queueHs256}: the library on the same node, {@link QueuePublisher#publish}
 * through {@code RabbitMqTransport.sender} (mint a one-time HS256 token bound to the payload, the same
 * publish and confirm) and one {@link QueueConsumer#poll} per round of a {@code RabbitMqTransport.source}
 * with that batch size (the same {@code basic.get}s, verify each envelope, the replay check and the
 * record of the handled message in a {@link RedisReplayGuard} on a testkit TLS Redis, one {@code MGET} per
 * round, the handler, {@code basic.ack}). Both use durable quorum queues declared by
 * {@code RabbitMqTransport.declare}. Higher is better (messages per second).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class RabbitMqQueueBenchmark {

    /** Messages per invocation; a multiple of every {@code batchSize}. */
    static final int MESSAGES = 32;

    private static final String TRUST_DOMAIN = "bench.test";
    private static final String API = "spiffe://" + TRUST_DOMAIN + "/api";
    private static final String WORKER = "spiffe://" + TRUST_DOMAIN + "/worker";
    private static final String OPERATOR = "spiffe://" + TRUST_DOMAIN + "/operator";
    private static final String VHOST = "bench";
    private static final String QUEUE = "jobs";
    private static final String RAW_QUEUE = "raw";
    /**
     * Written by hand and wide on purpose: both sides publish and read the same way for either queue (the raw
     * client through the default exchange, the transport through {@code zt.publish.jobs}); permissions are
     * checked once per channel, not per message, so they do not change what is measured.
     */
    private static final String DEFINITIONS = """
            {
              "users": [
                {"name": "%1$s", "password_hash": "", "tags": []},
                {"name": "%2$s", "password_hash": "", "tags": []},
                {"name": "%3$s", "password_hash": "", "tags": []}
              ],
              "vhosts": [{"name": "%4$s"}],
              "permissions": [
                {"user": "%1$s", "vhost": "%4$s", "configure": "^$", "write": ".*", "read": "^$"},
                {"user": "%2$s", "vhost": "%4$s", "configure": "^$", "write": ".*", "read": ".*"},
                {"user": "%3$s", "vhost": "%4$s", "configure": ".*", "write": ".*", "read": ".*"}
              ]
            }
            """.formatted(API, WORKER, OPERATOR, VHOST);
    private static final byte[] PAYLOAD = "p".repeat(256).getBytes(StandardCharsets.UTF_8);
    /** Rounds in a row that may find the queue empty before a message confirmed by the broker counts as lost. */
    private static final int MAX_EMPTY_ROUNDS = 1_000;
    private static final long CONFIRM_TIMEOUT_MILLIS = 10_000;
    private static final AuditLog NO_AUDIT = event -> { };

    /** Messages per round: published, then taken and settled together. */
    @Param({"1", "32"})
    public int batchSize;

    private LocalRabbitMq rabbit;
    private BenchmarkRedis redis;
    private final List<AutoCloseable> connections = new ArrayList<>();
    private Channel rawPublisher;
    private Channel rawConsumer;
    private QueuePublisher publisher;
    private QueueConsumer consumer;

    /** Starts RabbitMQ and Redis, declares the queues, connects, and runs each side once. */
    @Setup
    public void setUp() throws Exception {
        if (MESSAGES % batchSize != 0) {
            throw new IllegalArgumentException("batchSize must divide " + MESSAGES + "; got " + batchSize);
        }
        DevCertificateAuthority ca = DevCertificateAuthority.create(TRUST_DOMAIN);
        rabbit = LocalRabbitMq.builder(ca).definitions(DEFINITIONS).start();
        redis = new BenchmarkRedis(ca, "~bench:* +set +mget +getdel");
        try (RabbitMqConnection operator = connect("operator")) {
            RabbitMqTransport.declare(operator, QUEUE, 20);
            RabbitMqTransport.declare(operator, RAW_QUEUE, 20);
        }

        rawPublisher = connect("api").connection().createChannel();
        rawPublisher.confirmSelect();
        rawConsumer = connect("worker").connection().createChannel();

        TokenKey key = TokenKey.hs256("api-hs", "0123456789abcdef0123456789abcdef".getBytes(StandardCharsets.US_ASCII));
        EnvelopeSigner signer = EnvelopeSigner.builder(ServiceTokens.builder().identity(API).signingKey(key).build(),
                QUEUE).build();
        publisher = QueuePublisher.of(RabbitMqTransport.sender(connect("api"), signer).auditLog(NO_AUDIT).build(),
                signer);
        ServiceTokens queueTokens = ServiceTokens.builder().identity("spiffe://" + TRUST_DOMAIN + "/queue/" + QUEUE)
                .verificationKeys(KeySet.of(key)).trustIssuers(API).auditLog(NO_AUDIT).build();
        EnvelopeVerifier verifier = EnvelopeVerifier.builder(queueTokens, QUEUE).publishers(API)
                .replayGuard(RedisReplayGuard.builder(redis.connection(), KeyNamespace.of("bench"))
                        .auditLog(NO_AUDIT).build())
                .auditLog(NO_AUDIT).build();
        consumer = QueueConsumer.builder(RabbitMqTransport.source(connect("worker"), verifier).batchSize(batchSize)
                .auditLog(NO_AUDIT).build(), verifier, message -> { }).auditLog(NO_AUDIT).build();

        baseline();
        queueHs256(); // each must work before anything is measured
    }

    private RabbitMqConnection connect(String service) {
        IssuedCertificate certificate = rabbit.clientCertificate(service);
        CredentialSource credentials = CredentialSource.fixed(
                TlsIdentity.of(certificate.privateKey(), certificate.chain()),
                TrustBundle.of(List.of(rabbit.certificateAuthority().rootCertificate())));
        RabbitMqConnection connection = RabbitMqConnections.builder(MtlsContext.client(credentials).auditLog(NO_AUDIT)
                        .build())
                .host(rabbit.host()).port(rabbit.tlsPort()).virtualHost(VHOST).auditLog(NO_AUDIT).build()
                .connect("bench-" + service);
        connections.add(connection);
        return connection;
    }

    /** Closes the connections and stops both servers. */
    @TearDown
    public void tearDown() throws Exception {
        for (AutoCloseable connection : connections) {
            connection.close();
        }
        connections.clear();
        redis.close();
        rabbit.close();
    }

    /** The raw client: publish and confirm each message, then {@code basic.get} and {@code basic.ack} the round. */
    @Benchmark
    @OperationsPerInvocation(MESSAGES)
    public long baseline() throws IOException, InterruptedException, TimeoutException {
        long bytes = 0;
        for (int sent = 0; sent < MESSAGES; sent += batchSize) {
            for (int i = 0; i < batchSize; i++) {
                rawPublisher.basicPublish("", RAW_QUEUE, true, new AMQP.BasicProperties.Builder()
                        .deliveryMode(2).userId(API).messageId(UUID.randomUUID().toString())
                        .contentType("application/octet-stream").build(), PAYLOAD);
                if (!rawPublisher.waitForConfirms(CONFIRM_TIMEOUT_MILLIS)) {
                    throw new IllegalStateException("the broker nacked a message");
                }
            }
            List<GetResponse> round = new ArrayList<>(batchSize);
            int empty = 0;
            while (round.size() < batchSize) {
                GetResponse response = rawConsumer.basicGet(RAW_QUEUE, false);
                if (response != null) {
                    round.add(response);
                } else if (++empty > MAX_EMPTY_ROUNDS) {
                    throw new IllegalStateException("confirmed messages missing from " + RAW_QUEUE);
                }
            }
            for (GetResponse response : round) {
                bytes += response.getBody().length; // the handler
                rawConsumer.basicAck(response.getEnvelope().getDeliveryTag(), false);
            }
        }
        return bytes;
    }

    /** Publish each message through the library, then one {@code poll()} per round, HS256 envelopes. */
    @Benchmark
    @OperationsPerInvocation(MESSAGES)
    public int queueHs256() {
        int processed = 0;
        for (int sent = 0; sent < MESSAGES; sent += batchSize) {
            for (int i = 0; i < batchSize; i++) {
                publisher.publish(PAYLOAD);
            }
            int round = 0;
            int empty = 0;
            while (round < batchSize) {
                int polled = consumer.poll();
                round += polled;
                if (polled == 0 && ++empty > MAX_EMPTY_ROUNDS) {
                    throw new IllegalStateException("confirmed messages missing from " + QUEUE);
                }
            }
            processed += batchSize;
        }
        return processed;
    }
}
