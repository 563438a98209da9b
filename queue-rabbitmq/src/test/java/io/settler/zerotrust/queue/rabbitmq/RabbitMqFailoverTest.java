package io.settler.zerotrust.queue.rabbitmq;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.GetResponse;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.settler.zerotrust.credentials.CredentialSource;
import io.settler.zerotrust.credentials.TlsIdentity;
import io.settler.zerotrust.credentials.TrustBundle;
import io.settler.zerotrust.pki.DevCertificateAuthority;
import io.settler.zerotrust.pki.IssuedCertificate;
import io.settler.zerotrust.pki.PemFiles;
import io.settler.zerotrust.queue.DeliverySource;
import io.settler.zerotrust.queue.EnvelopeSender;
import io.settler.zerotrust.queue.EnvelopeVerifier;
import io.settler.zerotrust.queue.MessageHandler;
import io.settler.zerotrust.queue.QueueAudit;
import io.settler.zerotrust.queue.QueueConsumer;
import io.settler.zerotrust.queue.QueuePublisher;
import io.settler.zerotrust.redis.HardenedRedis;
import io.settler.zerotrust.redis.PasswordSource;
import io.settler.zerotrust.testkit.LocalRabbitMq;
import io.settler.zerotrust.testkit.LocalRabbitMqCluster;
import io.settler.zerotrust.testkit.LocalRedis;
import io.settler.zerotrust.testkit.RecordingAuditLog;
import io.settler.zerotrust.token.KeySet;
import io.settler.zerotrust.token.TokenAlgorithm;
import io.settler.zerotrust.token.TokenKey;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The RabbitMQ transport through failures, on a real three-node cluster (one for the class) with
 * the replay guard on a real TLS Redis: a node (the queue's leader) stopped and restarted while
 * 10,000 messages flow, a virtual host restarting under connected clients, and a worker process
 * killed in the middle of a message. Every job is counted by its payload: none lost, none handled twice.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class RabbitMqFailoverTest {

    private static final Logger LOG = LoggerFactory.getLogger(RabbitMqFailoverTest.class);
    private static final int MESSAGES = 10_000;
    private static final int PUBLISHING_THREADS = 8;
    private static final int WORKERS = 3;
    private static final DevCertificateAuthority CA = DevCertificateAuthority.create("queue.test");
    private static final RecordingAuditLog AUDIT = RecordingAuditLog.logging();
    private static final TokenKey API_KEY = TokenKey.generate(TokenAlgorithm.ED25519, "api-1");
    private static final String DEAD = RabbitMqTransport.deadLetterQueue(Deployment.QUEUE);

    @TempDir
    static Path dir;

    private static LocalRabbitMqCluster cluster;
    private static LocalRedis redis;
    private static RabbitMqConnection operator;

    private final List<AutoCloseable> open = new ArrayList<>();

    @BeforeAll
    static void start() throws Exception {
        cluster = LocalRabbitMqCluster.builder(CA).definitions(Deployment.DEFINITIONS).start();
        redis = LocalRedis.builder(CA).user("worker", "guard-secret", "~worker:* +@all").start();
        operator = connections(Deployment.ADMIN, 0).connect(Deployment.ADMIN);
        declareOnEveryNode();
    }

    /**
     * Declares the queues as the operator on node 0 (the leader), until each has its three members
     * online: with a member that did not start, stopping the leader would leave no majority.
     */
    private static void declareOnEveryNode() throws Exception {
        for (int attempt = 1; attempt <= 3; attempt++) {
            RabbitMqTransport.declare(operator, Deployment.QUEUE, 20);
            if (cluster.awaitQuorumMembersOnline(Deployment.QUEUE, Duration.ofSeconds(30), Deployment.QUEUE, DEAD)) {
                return;
            }
            try (Channel admin = operator.connection().createChannel()) {
                admin.queueDelete(Deployment.QUEUE);
                admin.queueDelete(DEAD);
            }
        }
        throw new AssertionError("the quorum queues never had a member online on every node");
    }

    @AfterAll
    static void stop() throws Exception {
        for (AutoCloseable each : new AutoCloseable[] {operator, cluster, redis}) {
            if (each != null) {
                each.close();
            }
        }
    }

    @BeforeEach
    void emptyQueues() throws Exception {
        cluster.awaitVirtualHostsUp(); // an earlier test stopped a member: a survivor's vhost may be down
        try (Channel admin = operator.connection().createChannel()) {
            admin.queuePurge(Deployment.QUEUE);
            admin.queuePurge(DEAD);
        }
        AUDIT.clear();
    }

    @AfterEach
    void closeAll() throws Exception {
        for (int i = open.size() - 1; i >= 0; i--) {
            open.get(i).close();
        }
    }

    @Test
    @Order(1) // on the fresh cluster
    void tenThousandMessagesWhileTheQueuesLeaderStopsAndRestartsNoneLostNoneHandledTwice() throws Exception {
        Map<String, Integer> handled = new ConcurrentHashMap<>(); // payload -> times handled
        RedisCommands<String, String> guard = guard();
        EnvelopeVerifier verifier = verifier(guard);
        AtomicBoolean stop = new AtomicBoolean();
        AtomicInteger pollFailures = new AtomicInteger();
        ExecutorService threads = Executors.newFixedThreadPool(PUBLISHING_THREADS + WORKERS);
        long started = System.nanoTime();
        try {
            List<Future<?>> workers = new ArrayList<>();
            for (int w = 0; w < WORKERS; w++) {
                QueueConsumer consumer = consumer(connect("worker", "worker-" + w), verifier,
                        message -> handled.merge(new String(message.payload(), UTF_8), 1, Integer::sum));
                workers.add(threads.submit(() -> pollUntil(stop, consumer, pollFailures)));
            }
            RabbitMqConnection api = connect("api", "api");
            List<Future<?>> publishers = new ArrayList<>();
            for (int t = 0; t < PUBLISHING_THREADS; t++) {
                QueuePublisher publisher = QueuePublisher.of(sender(api), Deployment.signer(API_KEY));
                int first = t;
                publishers.add(threads.submit(() -> {
                    for (int i = first; i < MESSAGES; i += PUBLISHING_THREADS) {
                        publisher.publish(Integer.toString(i).getBytes(UTF_8));
                    }
                    return null;
                }));
            }

            awaitHandled(handled, MESSAGES / 4, started, publishers);
            long stopping = System.nanoTime();
            cluster.stop(0); // the queue's leader, and the node every client is connected to
            LOG.info("node 0 stopped after {} handled, in {} ms", handled.size(), millisSince(stopping));
            awaitHandled(handled, MESSAGES / 2, started, publishers);
            long starting = System.nanoTime();
            cluster.start(0);
            LOG.info("node 0 back after {} handled, in {} ms", handled.size(), millisSince(starting));
            for (Future<?> publisher : publishers) {
                publisher.get(120, TimeUnit.SECONDS); // rethrows a publish that failed for good
            }
            awaitHandled(handled, MESSAGES, started, publishers);
            stop.set(true);
            for (Future<?> worker : workers) {
                worker.get(30, TimeUnit.SECONDS);
            }
        } finally {
            stop.set(true);
            threads.shutdownNow();
        }
        long elapsed = millisSince(started);

        assertThat(handled.keySet()).isEqualTo(IntStream.range(0, MESSAGES).mapToObj(Integer::toString)
                .collect(Collectors.toSet()));
        assertThat(handled.values()).as("none handled twice").allMatch(times -> times == 1);
        assertThat(AUDIT.withAction(RabbitMqAudit.RECONNECTED)).as("clients moved to another node").isNotEmpty();
        Map<String, Integer> deadLetters = drainDeadLetters();
        assertThat(deadLetters.keySet()).as("only second copies of a publish sent again")
                .isSubsetOf(Set.of("REPLAYED"));
        try (Channel admin = operator.connection().createChannel()) {
            assertThat(admin.messageCount(Deployment.QUEUE)).as("every delivery acknowledged").isZero();
        }
        LOG.info("{} messages in {} ms through a leader stop and restart: {} reconnects, {} connection rounds"
                        + " retried, {} publishes retried, {} poll rounds failed, dead letters {} ({} audited)",
                MESSAGES, elapsed, AUDIT.withAction(RabbitMqAudit.RECONNECTED).size(),
                AUDIT.withAction(RabbitMqAudit.CONNECTION_RETRIED).size(),
                AUDIT.withAction(RabbitMqAudit.PUBLISH_RETRIED).size(), pollFailures.get(), deadLetters,
                AUDIT.withAction(QueueAudit.DEAD_LETTERED).size());
    }

    @Test
    void aPublisherAndAConsumerWaitOutAVirtualHostRestartingOnTheirNode() throws Exception {
        Map<String, Integer> handled = new ConcurrentHashMap<>();
        RedisCommands<String, String> guard = guard();
        EnvelopeVerifier verifier = verifier(guard);
        List<String> onlyNode1 = List.of(nodes(1).get(0)); // no other node to fail over to
        RabbitMqConnection api = track(Deployment.connections(credentials(cluster.clientCertificate("api")),
                onlyNode1, AUDIT).connect("api"));
        RabbitMqConnection worker = track(Deployment.connections(credentials(cluster.clientCertificate("worker")),
                onlyNode1, AUDIT).connect("worker"));
        QueuePublisher publisher = QueuePublisher.of(sender(api), Deployment.signer(API_KEY));
        QueueConsumer consumer = consumer(worker, verifier,
                message -> handled.merge(new String(message.payload(), UTF_8), 1, Integer::sum));
        publisher.publish("before".getBytes(UTF_8));
        assertThat(pollUntilHandled(consumer, handled, 1)).isEqualTo(1);

        // What a survivor does for a moment after another member stops: its virtual host is down and
        // it refuses logins with INTERNAL_ERROR "access to vhost refused". Here on purpose, for 2 s.
        LocalRabbitMq node = cluster.node(1);
        node.rabbitmqctl("eval", "rabbit_vhost_sup_sup:stop_and_delete_vhost(<<\"jobs\">>).");
        node.rabbitmqctl("close_all_connections", "-p", "jobs", "the test restarts the virtual host");
        ExecutorService restarter = Executors.newSingleThreadExecutor();
        try {
            Future<String> restarted = restarter.submit(() -> {
                Thread.sleep(2_000);
                return node.rabbitmqctl("restart_vhost", "-p", "jobs");
            });
            publisher.publish("during".getBytes(UTF_8)); // reconnects once the virtual host is back
            restarted.get(60, TimeUnit.SECONDS);
        } finally {
            restarter.shutdownNow();
        }
        publisher.publish("after".getBytes(UTF_8));
        assertThat(pollUntilHandled(consumer, handled, 3)).isEqualTo(3);

        assertThat(handled).containsOnlyKeys("before", "during", "after").allSatisfy((key, times) ->
                assertThat(times).isEqualTo(1));
        assertThat(AUDIT.withAction(RabbitMqAudit.CONNECTION_RETRIED)).as("the refusals were retried").isNotEmpty()
                .allSatisfy(event -> assertThat(event.fields().get("detail")).contains("access to vhost"));
        assertThat(AUDIT.withAction(RabbitMqAudit.RECONNECTED)).extracting(event -> event.fields().get("identity"))
                .contains(Deployment.API, Deployment.WORKER);
    }

    @Test
    void aWorkerProcessKilledMidMessageLeavesItToAnotherWorkerAndTheJobTakesEffectOnce() throws Exception {
        RedisCommands<String, String> guard = guard();
        guard.del(IntStream.range(0, 30).mapToObj(i -> "worker:effect:" + i).toArray(String[]::new));
        guard.del("worker:started:15");
        QueuePublisher publisher = QueuePublisher.of(sender(connect("api", "api")), Deployment.signer(API_KEY));
        for (int i = 0; i < 30; i++) {
            publisher.publish(Integer.toString(i).getBytes(UTF_8));
        }
        Process child = startWorkerProcess("15");
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (guard.get("worker:started:15") == null) {
                assertThat(child.isAlive()).as("the worker process runs (see %s)", dir.resolve("worker.log"))
                        .isTrue();
                assertThat(System.nanoTime() - deadline).as("the worker reached message 15").isNegative();
                Thread.sleep(50);
            }
            child.destroyForcibly(); // SIGKILL, in the middle of message 15
            assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
        } finally {
            child.destroyForcibly();
        }
        assertThat(guard.get("worker:effect:15")).as("killed before the effect").isNull();

        List<String> handledHere = new ArrayList<>();
        QueueConsumer consumer = consumer(connect("worker", "worker-2"), verifier(guard), message -> {
            String payload = new String(message.payload(), UTF_8);
            handledHere.add(payload);
            guard.incr("worker:effect:" + payload);
        });
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (handledHere.size() < 30 - 15 && System.nanoTime() - deadline < 0) {
            consumer.poll();
        }
        for (int round = 0; round < 5; round++) {
            consumer.poll(); // anything left would show here
        }

        Map<String, String> effects = new HashMap<>();
        for (int i = 0; i < 30; i++) {
            effects.put(Integer.toString(i), guard.get("worker:effect:" + i));
        }
        assertThat(effects).as("each job's effect once").allSatisfy((job, count) -> assertThat(count).isEqualTo("1"));
        // The worker process handled 0 to 14 (those of its last batch recorded as finished but not yet
        // acknowledged: redelivered here and acknowledged without running), died in 15.
        assertThat(handledHere).as("the killed worker's message and the rest, each once")
                .containsExactlyInAnyOrderElementsOf(IntStream.range(15, 30).mapToObj(Integer::toString).toList());
        assertThat(AUDIT.withAction(QueueAudit.DEAD_LETTERED)).isEmpty();
        try (Channel admin = operator.connection().createChannel()) {
            assertThat(admin.messageCount(Deployment.QUEUE)).isZero();
            assertThat(admin.messageCount(DEAD)).isZero();
        }
    }

    /** Starts {@link WorkerProcess} in its own JVM, blocking on {@code block}; its output goes to worker.log. */
    private Process startWorkerProcess(String block) throws Exception {
        PemFiles rabbitPem = cluster.clientCertificate("worker").writePem(dir, "rabbit-worker");
        PemFiles redisPem = redis.clientCertificate("worker").writePem(dir, "redis-worker");
        Path password = Files.writeString(dir.resolve("worker.password"), "guard-secret\n");
        Path jwks = Files.writeString(dir.resolve("api.jwks"), KeySet.of(API_KEY.verifyOnly()).toJwks());
        Path settings = dir.resolve("worker.properties");
        Map<String, String> values = Map.of("ca", rabbitPem.caBundle().toString(),
                "rabbit.chain", rabbitPem.chain().toString(), "rabbit.key", rabbitPem.privateKey().toString(),
                "rabbit.nodes", String.join(",", nodes(0)), "redis.host", redis.host(),
                "redis.port", Integer.toString(redis.tlsPort()), "redis.password", password.toString(),
                "redis.chain", redisPem.chain().toString(), "redis.key", redisPem.privateKey().toString(),
                "jwks", jwks.toString());
        Properties properties = new Properties();
        properties.putAll(values);
        properties.put("block", block);
        try (var writer = Files.newBufferedWriter(settings, UTF_8)) {
            properties.store(writer, "worker process");
        }
        return new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), WorkerProcess.class.getName(), settings.toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("worker.log").toFile()).start();
    }

    private static void pollUntil(AtomicBoolean stop, QueueConsumer consumer, AtomicInteger failures) {
        while (!stop.get()) {
            try {
                consumer.poll();
            } catch (RuntimeException e) { // a lost connection: the next poll opens a new one
                failures.incrementAndGet();
                LOG.debug("poll failed: {}", e.toString());
            }
        }
    }

    private static int pollUntilHandled(QueueConsumer consumer, Map<String, Integer> handled, int count)
            throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (handled.size() < count && System.nanoTime() - deadline < 0) {
            try {
                consumer.poll();
            } catch (RuntimeException e) {
                LOG.debug("poll failed: {}", e.toString());
                Thread.sleep(100);
            }
        }
        return handled.size();
    }

    /** Waits until {@code count} jobs were handled; rethrows at once what made a publisher give up. */
    private static void awaitHandled(Map<String, Integer> handled, int count, long started,
            List<Future<?>> publishers) throws Exception {
        while (handled.size() < count) {
            for (Future<?> publisher : publishers) {
                if (publisher.isDone()) {
                    publisher.get();
                }
            }
            assertThat(millisSince(started)).as("%d of %d handled", handled.size(), count).isLessThan(240_000);
            Thread.sleep(20);
        }
    }

    private static long millisSince(long start) {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    }

    /** Every dead letter left in the dead-letter queue, counted by reason. */
    private static Map<String, Integer> drainDeadLetters() throws Exception {
        Map<String, Integer> reasons = new HashMap<>();
        try (Channel admin = operator.connection().createChannel()) {
            for (GetResponse letter = admin.basicGet(DEAD, true); letter != null; letter = admin.basicGet(DEAD, true)) {
                reasons.merge(String.valueOf(letter.getProps().getHeaders().get("reason")), 1, Integer::sum);
            }
        }
        return reasons;
    }

    private QueueConsumer consumer(RabbitMqConnection connection, EnvelopeVerifier verifier, MessageHandler handler) {
        DeliverySource source = RabbitMqTransport.source(connection, verifier).batchSize(100)
                .consume(Duration.ofMillis(200)).auditLog(AUDIT).build();
        return QueueConsumer.builder(source, verifier, handler).maxDeliveries(10).lease(Deployment.LEASE)
                .auditLog(AUDIT).build();
    }

    private static EnvelopeSender sender(RabbitMqConnection connection) {
        // Retries a publish lost with its connection or nacked while a new leader is elected, up to 2 min: on a
        // loaded machine the survivors have been seen to nack every publish for over 30 s after the leader stopped.
        return RabbitMqTransport.sender(connection, Deployment.signer(API_KEY)).confirmTimeout(Duration.ofMinutes(2))
                .auditLog(AUDIT).build();
    }

    private static EnvelopeVerifier verifier(RedisCommands<String, String> guard) {
        return Deployment.verifier(KeySet.of(API_KEY.verifyOnly()).toJwks(), guard, AUDIT);
    }

    private RedisCommands<String, String> guard() throws Exception {
        Path password = Files.writeString(dir.resolve("guard.password"), "guard-secret\n");
        IssuedCertificate certificate = redis.clientCertificate("worker");
        HardenedRedis client = track(HardenedRedis.builder().host(redis.host()).port(redis.tlsPort()).user("worker")
                .password(PasswordSource.fromFile(password)).credentials(credentials(certificate)).ioThreads(1)
                .build());
        StatefulRedisConnection<String, String> connection = track(client.connect());
        return connection.sync();
    }

    private RabbitMqConnection connect(String service, String name) {
        return track(connections(service, 0).connect(name));
    }

    private <T extends AutoCloseable> T track(T closeable) {
        open.add(closeable);
        return closeable;
    }

    /** The connections of {@code service} to every node, node {@code first} first. */
    private static RabbitMqConnections connections(String service, int first) {
        return Deployment.connections(credentials(cluster.clientCertificate(service)), nodes(first), AUDIT);
    }

    /** The nodes' host:port, starting with {@code first}. */
    private static List<String> nodes(int first) {
        return IntStream.range(0, 3).mapToObj(i -> cluster.node((first + i) % 3))
                .map(node -> node.host() + ":" + node.tlsPort()).toList();
    }

    private static CredentialSource credentials(IssuedCertificate certificate) {
        return CredentialSource.fixed(TlsIdentity.of(certificate.privateKey(), certificate.chain()),
                TrustBundle.of(List.of(CA.rootCertificate())));
    }
}
