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
        return RedisStreamsTransport.source(worker, verifier).group("workers").consumer("w1").claimAfter(claimAfter)
                .auditLog(fixtures.audit).build();
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
     * replaces the publisher the transport authenticated (what another broker would report).
     */
    private static final class RecordingSource implements DeliverySource {
        final List<String> calls = new ArrayList<>();
        final List<Long> counts = new ArrayList<>();
        final List<String> authenticated = new ArrayList<>();
        private final DeliverySource real;
        private final @Nullable String brokerSays;

        RecordingSource(DeliverySource real, @Nullable String brokerSays) {
            this.real = real;
            this.brokerSays = brokerSays;
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
                return real.id();
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
