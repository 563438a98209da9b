package io.settler.zerotrust.queue;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.lettuce.core.Range;
import io.lettuce.core.StreamMessage;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.settler.zerotrust.pki.DevCertificateAuthority;
import io.settler.zerotrust.redis.HardenedRedis;
import io.settler.zerotrust.redis.KeyNamespace;
import io.settler.zerotrust.redis.RedisAcl;
import io.settler.zerotrust.redis.RedisReplayGuard;
import io.settler.zerotrust.testkit.LocalRedis;
import io.settler.zerotrust.token.KeySet;
import io.settler.zerotrust.token.ServiceTokens;
import io.settler.zerotrust.token.TokenAlgorithm;
import io.settler.zerotrust.token.TokenKey;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The consumer's side of the transport contract ({@link DeliverySource}, {@link Delivery}), on the
 * real Redis Streams transport against a TLS Redis with the rendered ACL: what {@link QueueConsumer}
 * asks of every transport (settle each delivery exactly one way, dead-letter with the reason before
 * acknowledging, leave a failed one for the broker to deliver and count again, refuse a publisher the
 * broker authenticated as someone else), watched through a recording wrapper around the real deliveries.
 */
class DeliveryContractTest {

    private static final Map<String, String> PASSWORDS = Map.of("api", "contract-api-secret",
            "billing", "contract-billing-secret", "worker", "contract-worker-secret",
            "operator", "contract-operator-secret");
    private static final String API_STREAM = RedisAcl.streamKey("jobs", "api");
    private static final String DEAD = RedisAcl.deadLetterKey("jobs");

    private static LocalRedis redis;

    @TempDir
    static Path dir;

    private final Fixtures fixtures = new Fixtures();
    private final List<VerifiedMessage> handled = new CopyOnWriteArrayList<>();
    private final List<AutoCloseable> open = new ArrayList<>();
    private RedisCommands<String, String> api;
    private RedisCommands<String, String> worker;
    private RedisCommands<String, String> operator;
    private EnvelopeVerifier verifier;

    @BeforeAll
    static void startServerWithRenderedAcl() {
        redis = LocalRedis.builder(DevCertificateAuthority.create("queue.test")).start();
        Fixtures.loadRenderedAcl(redis, PASSWORDS,
                "~queue:* +xgroup|create +xrange +acl|whoami +client|info +@connection");
    }

    @AfterAll
    static void stopServer() {
        redis.close();
    }

    @BeforeEach
    void connect() {
        redis.executeAsAdmin("DEL", API_STREAM, DEAD);
        api = connectAs("api");
        worker = connectAs("worker");
        operator = connectAs("operator");
        verifier = fixtures.verifier(RedisReplayGuard.builder(worker, KeyNamespace.of("worker"))
                .auditLog(fixtures.audit).build());
        RedisStreamsTransport.createGroup(operator, verifier, "workers");
    }

    @AfterEach
    void close() throws Exception {
        for (int i = open.size() - 1; i >= 0; i--) {
            open.get(i).close();
        }
    }

    @Test
    void messageTheVerifierRefusesIsDeadLetteredWithItsReasonThenAcknowledgedAndNeverHandled() {
        RecordingSource source = new RecordingSource(redisSource(Duration.ofMinutes(1)), null);
        QueueConsumer consumer = QueueConsumer.builder(source, verifier, handled::add).auditLog(fixtures.audit).build();
        EnvelopeSender sender = RedisStreamsTransport.sender(api, "jobs", "api").build();
        ServiceTokens forger = ServiceTokens.builder().identity(Fixtures.API)
                .signingKey(TokenKey.generate(TokenAlgorithm.ED25519, "api-1")).build();
        String genuine = QueuePublisher.of(sender, fixtures.signer()).publish("job".getBytes(UTF_8));
        String forged = sender.send(EnvelopeSigner.builder(forger, "jobs").build().seal("rm -rf".getBytes(UTF_8)));

        assertThat(consumer.poll()).isEqualTo(2);

        assertThat(source.calls).as("the batch's acknowledgements together, after the dead letter").containsExactly(
                forged + " deadLetter FORGED keepMessage=false",
                genuine + " acknowledge", forged + " acknowledge");
        assertThat(handled).singleElement().satisfies(message -> assertThat(message.payload()).isEqualTo(
                "job".getBytes(UTF_8)));
        assertThat(source.authenticated).as("Redis vouches for the stream owner").containsOnly(Fixtures.API);
        List<StreamMessage<String, String>> letters = operator.xrange(DEAD, Range.create("-", "+"));
        assertThat(letters).singleElement().satisfies(letter -> assertThat(letter.getBody())
                .containsEntry("reason", "FORGED").containsEntry("entry", forged).containsEntry("group", "workers")
                .doesNotContainKeys("tok", "pld"));
        assertThat(worker.xpending(API_STREAM, "workers").getCount()).as("nothing left pending").isZero();
        assertThat(fixtures.audit.single(QueueAudit.DEAD_LETTERED).fields()).containsEntry("reason", "FORGED")
                .containsEntry("entry", forged);
    }

    @Test
    void failedHandlerLeavesTheMessageForTheBrokerToDeliverAndCountAgainUntilItIsDeadLettered() {
        RecordingSource source = new RecordingSource(redisSource(Duration.ZERO), null);
        QueueConsumer consumer = QueueConsumer.builder(source, verifier, message -> {
            throw new IllegalStateException("always fails");
        }).maxDeliveries(2).auditLog(fixtures.audit).build();
        String id = QueuePublisher.of(api, fixtures.signer()).publish("poison pill".getBytes(UTF_8));

        for (int round = 0; round < 3; round++) {
            assertThat(consumer.poll()).as("round %s", round).isEqualTo(1);
        }

        assertThat(source.counts).as("the delivery count comes from Redis's pending list").containsExactly(1L, 2L, 3L);
        assertThat(source.calls).containsExactly(id + " leaveForRedelivery", id + " leaveForRedelivery",
                id + " deadLetter TOO_MANY_DELIVERIES keepMessage=true", id + " acknowledge");
        assertThat(fixtures.audit.withAction(QueueAudit.HANDLER_FAILED)).hasSize(2);
        assertThat(operator.xrange(DEAD, Range.create("-", "+"))).singleElement()
                .satisfies(letter -> assertThat(letter.getBody()).containsEntry("reason", "TOO_MANY_DELIVERIES")
                        .containsKeys("v", "tok", "pld"));
        assertThat(worker.xpending(API_STREAM, "workers").getCount()).isZero();
        assertThat(consumer.poll()).as("settled: never delivered again").isZero();
    }

    /** As RabbitMQ's validated user-id would say: the broker saw billing send a message signed by api. */
    @Test
    void messageTheBrokerAuthenticatedAsFromAnotherPublisherIsDeadLetteredAsWrongPublisher() {
        RecordingSource source = new RecordingSource(redisSource(Duration.ofMinutes(1)), Fixtures.BILLING);
        QueueConsumer consumer = QueueConsumer.builder(source, verifier, handled::add).auditLog(fixtures.audit).build();
        String id = QueuePublisher.of(api, fixtures.signer()).publish("job".getBytes(UTF_8));

        assertThat(consumer.poll()).isEqualTo(1);

        assertThat(handled).isEmpty();
        assertThat(source.calls).containsExactly(id + " deadLetter WRONG_PUBLISHER keepMessage=false",
                id + " acknowledge");
        assertThat(fixtures.audit.single(QueueAudit.MESSAGE_REJECTED).fields())
                .containsEntry("reason", "WRONG_PUBLISHER");
    }

    @Test
    void aBrokerIdentityThePolicyDoesNotKnowMatchesNoIssuer() {
        RecordingSource source = new RecordingSource(redisSource(Duration.ofMinutes(1)),
                "spiffe://queue.test/intruder");
        QueueConsumer consumer = QueueConsumer.builder(source, verifier, handled::add).auditLog(fixtures.audit).build();
        QueuePublisher.of(api, fixtures.signer()).publish("job".getBytes(UTF_8));

        assertThat(consumer.poll()).isEqualTo(1);

        assertThat(handled).isEmpty();
        assertThat(fixtures.audit.single(QueueAudit.DEAD_LETTERED).fields()).containsEntry("reason", "WRONG_PUBLISHER");
    }

    /**
     * The attack on a broker whose message IDs the publisher sets (RabbitMQ's {@code message-id}): two
     * copies of one envelope with one ID, delivered to two workers at the same time. Both pass the
     * replay check (a redelivery of the same ID passes); the lease lets one handler run.
     */
    @Test
    void twoCopiesWithOneIdDeliveredToTwoWorkersAtOnceRunTheHandlerOnce() throws Exception {
        Map<String, String> fields = fixtures.signer().seal("charge 100".getBytes(UTF_8)).toFields();
        String original = api.xadd(API_STREAM, fields);
        String copy = api.xadd(API_STREAM, fields);
        Map<String, String> brokerIds = Map.of(copy, original); // the copy carries the original's ID
        CountDownLatch running = new CountDownLatch(1);
        CountDownLatch finish = new CountDownLatch(1);
        QueueConsumer first = QueueConsumer.builder(new RecordingSource(redisSource("w1", Duration.ofMinutes(1), 1),
                null, brokerIds), verifier, message -> {
                    handled.add(message);
                    running.countDown();
                    await(finish); // still running when the copy reaches the other worker
                }).auditLog(fixtures.audit).build();
        RecordingSource secondSource = new RecordingSource(redisSource("w2", Duration.ofMinutes(1), 1), null,
                brokerIds);
        QueueConsumer second = QueueConsumer.builder(secondSource, verifier, handled::add).auditLog(fixtures.audit)
                .build();
        ExecutorService thread = Executors.newSingleThreadExecutor();
        try {
            Future<Integer> firstPoll = thread.submit(first::poll);
            await(running);

            assertThat(second.poll()).as("the copy, left for redelivery").isEqualTo(1);
            assertThat(secondSource.calls).containsExactly(original + " leaveForRedelivery");
            assertThat(fixtures.audit.single(QueueAudit.DELIVERY_DEFERRED).fields()).containsEntry("entry", original)
                    .containsEntry("group", "workers").containsEntry("reason", "IN_PROGRESS");
            finish.countDown();
            assertThat(firstPoll.get(30, TimeUnit.SECONDS)).isEqualTo(1);
        } finally {
            finish.countDown();
            thread.shutdownNow();
        }

        RecordingSource thirdSource = new RecordingSource(redisSource("w3", Duration.ZERO, 1), null, brokerIds);
        QueueConsumer third = QueueConsumer.builder(thirdSource, verifier, handled::add).auditLog(fixtures.audit)
                .build();
        assertThat(third.poll()).as("the copy, reclaimed: the group finished its ID").isEqualTo(1);
        assertThat(handled).hasSize(1);
        assertThat(thirdSource.calls).containsExactly(original + " acknowledge");
        assertThat(worker.xpending(API_STREAM, "workers").getCount()).isZero();
        assertThat(operator.xrange(DEAD, Range.create("-", "+"))).isEmpty();
    }

    @Test
    void twoCopiesWithOneIdInOneBatchRunTheHandlerOnce() {
        Map<String, String> fields = fixtures.signer().seal("charge 100".getBytes(UTF_8)).toFields();
        String original = api.xadd(API_STREAM, fields);
        String copy = api.xadd(API_STREAM, fields);
        RecordingSource source = new RecordingSource(redisSource("w1", Duration.ZERO, 32), null,
                Map.of(copy, original));
        QueueConsumer consumer = QueueConsumer.builder(source, verifier, handled::add).auditLog(fixtures.audit)
                .build();

        assertThat(consumer.poll()).isEqualTo(2);
        assertThat(consumer.poll()).isEqualTo(1);

        assertThat(handled).hasSize(1);
        assertThat(source.calls).containsExactly(original + " leaveForRedelivery", original + " acknowledge",
                original + " acknowledge");
        assertThat(fixtures.audit.withAction(QueueAudit.DELIVERY_DEFERRED)).hasSize(1);
        assertThat(worker.xpending(API_STREAM, "workers").getCount()).isZero();
    }

    /** At-least-once through the lease: a worker dying mid-handler holds it only until it lapses. */
    @Test
    void aWorkerThatDiesMidHandlerHoldsTheLeaseUntilItLapsesThenTheRedeliveryRuns() throws Exception {
        Duration lease = Duration.ofSeconds(3);
        QueueConsumer dying = QueueConsumer.builder(redisSource("w1", Duration.ZERO, 32), verifier, message -> {
            throw new WorkerDied();
        }).lease(lease).auditLog(fixtures.audit).build();
        List<Instant> runs = new CopyOnWriteArrayList<>();
        QueueConsumer survivor = QueueConsumer.builder(redisSource("w2", Duration.ZERO, 32), verifier, message -> {
            runs.add(Instant.now());
            handled.add(message);
        }).auditLog(fixtures.audit).build();
        String id = QueuePublisher.of(api, fixtures.signer()).publish("charge".getBytes(UTF_8));
        Instant leased = Instant.now();

        assertThatThrownBy(dying::poll).isInstanceOf(WorkerDied.class);
        assertThat(survivor.poll()).as("reclaimed while the dead worker's lease holds").isEqualTo(1);
        assertThat(handled).isEmpty();
        assertThat(fixtures.audit.single(QueueAudit.DELIVERY_DEFERRED).fields()).containsEntry("entry", id);

        Thread.sleep(Math.max(0, Duration.between(Instant.now(), leased.plus(lease)).toMillis() + 100));
        assertThat(survivor.poll()).as("the lease lapsed").isEqualTo(1);

        assertThat(handled).hasSize(1);
        assertThat(runs).singleElement().satisfies(run -> assertThat(run).isAfterOrEqualTo(leased.plus(lease)));
        assertThat(worker.xpending(API_STREAM, "workers").getCount()).isZero();
        assertThat(operator.xrange(DEAD, Range.create("-", "+"))).isEmpty();
    }

    @Test
    void senderAndSourceOfAnotherQueueAreRefusedWhenWiring() {
        EnvelopeSender otherQueue = RedisStreamsTransport.sender(api, "other", "api").build();
        assertThatThrownBy(() -> QueuePublisher.of(otherQueue, fixtures.signer()))
                .isInstanceOfSatisfying(QueueException.class, e -> assertThat(e.reason())
                        .isEqualTo(QueueException.Reason.INVALID_CONFIGURATION));
        ServiceTokens otherTokens = ServiceTokens.builder().identity("spiffe://queue.test/queue/other")
                .verificationKeys(KeySet.of(fixtures.apiKey.verifyOnly())).trustIssuers(Fixtures.API).build();
        EnvelopeVerifier otherVerifier = EnvelopeVerifier.builder(otherTokens, "other").policy(Fixtures.POLICY)
                .replayGuard(RedisReplayGuard.builder(worker, KeyNamespace.of("worker")).build()).build();
        DeliverySource otherSource = RedisStreamsTransport.source(worker, otherVerifier).group("workers")
                .consumer("w1").build();
        assertThatThrownBy(() -> QueueConsumer.builder(otherSource, verifier, handled::add).build())
                .isInstanceOfSatisfying(QueueException.class, e -> {
                    assertThat(e.reason()).isEqualTo(QueueException.Reason.INVALID_CONFIGURATION);
                    assertThat(e.getMessage()).contains("other", "jobs");
                });
    }

    private DeliverySource redisSource(Duration claimAfter) {
        return redisSource("w1", claimAfter, 32);
    }

    private DeliverySource redisSource(String consumer, Duration claimAfter, int batchSize) {
        return RedisStreamsTransport.source(worker, verifier).group("workers").consumer(consumer)
                .claimAfter(claimAfter).batchSize(batchSize).auditLog(fixtures.audit).build();
    }

    private static void await(CountDownLatch latch) {
        try {
            assertThat(latch.await(30, TimeUnit.SECONDS)).as("the other worker's step").isTrue();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** A worker process dying in its handler: nothing after it runs, no lease is given up. */
    private static final class WorkerDied extends Error {
        private static final long serialVersionUID = 1L;
    }

    private RedisCommands<String, String> connectAs(String user) {
        HardenedRedis client = Fixtures.redisClient(redis, user, PASSWORDS.get(user), dir).build();
        open.add(client);
        StatefulRedisConnection<String, String> connection = client.connect();
        open.add(connection);
        return connection.sync();
    }

    /**
     * The real source, recording how the consumer settles each delivery; {@code brokerSays}, if set,
     * replaces the publisher the transport authenticated (what another broker would report), and
     * {@code brokerIds} replaces some entries' IDs (as a broker whose IDs the publisher sets would).
     */
    private static final class RecordingSource implements DeliverySource {
        final List<String> calls = new CopyOnWriteArrayList<>();
        final List<Long> counts = new ArrayList<>();
        final List<String> authenticated = new ArrayList<>();
        private final DeliverySource real;
        private final @Nullable String brokerSays;
        private final Map<String, String> brokerIds;

        RecordingSource(DeliverySource real, @Nullable String brokerSays) {
            this(real, brokerSays, Map.of());
        }

        RecordingSource(DeliverySource real, @Nullable String brokerSays, Map<String, String> brokerIds) {
            this.real = real;
            this.brokerSays = brokerSays;
            this.brokerIds = brokerIds;
        }

        @Override
        public String queue() {
            return real.queue();
        }

        @Override
        public String group() {
            return real.group();
        }

        @Override
        public List<Delivery> receive(HandledRecords records) {
            return real.receive(records).stream().map(delivery -> (Delivery) new Recorded(delivery)).toList();
        }

        private final class Recorded implements Delivery {
            private final Delivery real;

            Recorded(Delivery real) {
                this.real = real;
            }

            @Override
            public String source() {
                return real.source();
            }

            @Override
            public String id() {
                return brokerIds.getOrDefault(real.id(), real.id());
            }

            @Override
            public Envelope envelope() {
                return real.envelope();
            }

            @Override
            public long deliveryCount() {
                long count = real.deliveryCount();
                counts.add(count);
                return count;
            }

            @Override
            public Optional<String> authenticatedPublisher() {
                real.authenticatedPublisher().ifPresent(authenticated::add);
                return brokerSays == null ? real.authenticatedPublisher() : Optional.of(brokerSays);
            }

            @Override
            public Optional<Instant> brokerTime() {
                return real.brokerTime();
            }

            @Override
            public void checkUsable() {
                real.checkUsable();
            }

            @Override
            public void acknowledge() {
                calls.add(id() + " acknowledge");
                real.acknowledge();
            }

            @Override
            public void deadLetter(QueueException.Reason reason, String detail, boolean keepMessage) {
                calls.add(id() + " deadLetter " + reason + " keepMessage=" + keepMessage);
                real.deadLetter(reason, detail, keepMessage);
            }

            @Override
            public void leaveForRedelivery() {
                calls.add(id() + " leaveForRedelivery");
                real.leaveForRedelivery();
            }
        }
    }
}
