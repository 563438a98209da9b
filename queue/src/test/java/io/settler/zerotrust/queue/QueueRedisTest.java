package io.settler.zerotrust.queue;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.lettuce.core.Consumer;
import io.lettuce.core.Range;
import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.StreamMessage;
import io.lettuce.core.XAddArgs;
import io.lettuce.core.XReadArgs;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.settler.zerotrust.audit.AuditAction;
import io.settler.zerotrust.audit.AuditEvent;
import io.settler.zerotrust.audit.AuditLog;
import io.settler.zerotrust.pki.DevCertificateAuthority;
import io.settler.zerotrust.policy.Policy;
import io.settler.zerotrust.redis.HardenedRedis;
import io.settler.zerotrust.redis.KeyNamespace;
import io.settler.zerotrust.redis.RedisAcl;
import io.settler.zerotrust.redis.RedisReplayGuard;
import io.settler.zerotrust.testkit.LocalRedis;
import io.settler.zerotrust.token.KeySet;
import io.settler.zerotrust.token.ServiceTokens;
import io.settler.zerotrust.token.TokenAlgorithm;
import io.settler.zerotrust.token.TokenKey;
import io.settler.zerotrust.token.TokenRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.Signature;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The queue on a real TLS Redis of its own, whose users are the ACL rendered from the policy:
 * api publishes, worker consumes, operator sets up groups and reads the dead letters.
 */
class QueueRedisTest {

    private static final Map<String, String> PASSWORDS = Map.of("api", "queue-api-secret",
            "billing", "queue-billing-secret", "worker", "queue-worker-secret", "operator", "queue-operator-secret");
    private static final String API_STREAM = RedisAcl.streamKey("jobs", "api");
    private static final String DEAD = RedisAcl.deadLetterKey("jobs");

    private static LocalRedis redis;

    @TempDir
    static Path dir;

    private final Fixtures fixtures = new Fixtures();
    private final List<VerifiedMessage> handled = new CopyOnWriteArrayList<>();
    private final List<AutoCloseable> open = new ArrayList<>();
    private RedisCommands<String, String> api;
    private StatefulRedisConnection<String, String> workerConnection;
    private RedisCommands<String, String> worker;
    private RedisCommands<String, String> operator;
    private EnvelopeVerifier verifier;

    @BeforeAll
    static void startServerWithRenderedAcl() {
        redis = LocalRedis.builder(DevCertificateAuthority.create("queue.test")).start();
        Fixtures.loadRenderedAcl(redis, PASSWORDS, "~queue:* +xgroup|create +xgroup|destroy +xrange +xlen"
                + " +del +acl|whoami +client|info +@connection");
    }

    @AfterAll
    static void stopServer() {
        redis.close();
    }

    @BeforeEach
    void connect() throws Exception {
        redis.executeAsAdmin("DEL", API_STREAM, DEAD);
        api = connectAs("api");
        workerConnection = connectionAs("worker");
        worker = workerConnection.sync();
        operator = connectAs("operator");
        // On the connection: the guard pipelines a batch's leases, replay checks and records.
        verifier = fixtures.verifier(RedisReplayGuard.builder(workerConnection, KeyNamespace.of("worker"))
                .auditLog(fixtures.audit).build());
        QueueConsumer.createGroup(operator, verifier, "workers"); // the setup step: publishers need the streams
    }

    @AfterEach
    void close() throws Exception {
        for (int i = open.size() - 1; i >= 0; i--) {
            open.get(i).close();
        }
    }

    @Test
    void publishedMessagesAreVerifiedHandledAndAcknowledged() {
        QueueConsumer consumer = consumer("w1", message -> handled.add(message));
        QueuePublisher publisher = QueuePublisher.of(api, fixtures.signer());
        assertThat(publisher.destination()).isEqualTo(API_STREAM);
        for (int i = 0; i < 3; i++) {
            publisher.publish(("job-" + i).getBytes(UTF_8));
        }
        assertThat(consumer.poll()).isEqualTo(3);
        assertThat(handled).extracting(m -> new String(m.payload(), UTF_8)).containsExactly("job-0", "job-1", "job-2");
        assertThat(handled).extracting(VerifiedMessage::jti).doesNotHaveDuplicates();
        assertThat(worker.xpending(API_STREAM, "workers").getCount()).isZero();
        assertThat(consumer.poll()).isZero();
        assertThat(fixtures.audit.withAction(QueueAudit.MESSAGE_HANDLED)).as("one event per handled message, for"
                + " metrics").hasSize(3).allSatisfy(event -> {
                    assertThat(event.fields()).containsEntry("queue", "jobs").containsEntry("group", "workers")
                            .containsEntry("stream", API_STREAM).containsKeys("entry", "jti");
                    assertThat(event.elapsed()).as("the handler's time").isNotNull();
                });
        assertThat(fixtures.audit.withAction(QueueAudit.MESSAGE_HANDLED)).extracting(e -> e.fields().get("jti"))
                .containsExactlyElementsOf(handled.stream().map(VerifiedMessage::jti).toList());
    }

    @Test
    void aLogThatDropsRoutineEventsGetsNoHandledEventBuilt() {
        AuditLog warningsOnly = new AuditLog() { // as the SLF4J log with the audit logger above DEBUG
            @Override
            public void record(AuditEvent event) {
                fixtures.audit.record(event);
            }

            @Override
            public boolean records(AuditAction action) {
                return action.definition().level() != AuditAction.Level.DEBUG;
            }
        };
        QueueConsumer consumer = QueueConsumer.builder(worker, verifier, handled::add).group("workers")
                .consumer("w1").auditLog(warningsOnly).build();
        QueuePublisher.of(api, fixtures.signer()).publish("job".getBytes(UTF_8));
        api.xadd(API_STREAM, Map.of("v", "2")); // not an envelope: dead-lettered

        assertThat(consumer.poll()).isEqualTo(2);

        assertThat(handled).hasSize(1);
        assertThat(fixtures.audit.withAction(QueueAudit.MESSAGE_HANDLED)).isEmpty();
        assertThat(fixtures.audit.single(QueueAudit.DEAD_LETTERED).fields()).containsEntry("reason", "MALFORMED")
                .containsEntry("group", "workers").containsEntry("queue", "jobs");
    }

    @Test
    void forgedMessageSignedByUnknownKeyIsDeadLetteredAndNeverHandled() {
        ServiceTokens forger = ServiceTokens.builder().identity(Fixtures.API)
                .signingKey(TokenKey.generate(TokenAlgorithm.ED25519, "api-1")).build();
        api.xadd(API_STREAM, EnvelopeSigner.builder(forger, "jobs").build().seal("rm -rf".getBytes(UTF_8)).toFields());
        assertDeadLetteredAndNotHandled(QueueException.Reason.FORGED);
    }

    @Test
    void tamperedPayloadIsDeadLetteredAndNeverHandled() {
        Map<String, String> fields =
                new java.util.LinkedHashMap<>(fixtures.signer().seal("pay 10".getBytes(UTF_8)).toFields());
        fields.put("pld", Envelope.encode("pay 10000".getBytes(UTF_8)));
        api.xadd(API_STREAM, fields);
        assertDeadLetteredAndNotHandled(QueueException.Reason.TAMPERED);
    }

    @Test
    void replayedMessageIsDeadLetteredAndHandledOnlyOnce() {
        Map<String, String> fields = fixtures.signer().seal("once".getBytes(UTF_8)).toFields();
        api.xadd(API_STREAM, fields);
        api.xadd(API_STREAM, fields);
        QueueConsumer consumer = consumer("w1", handled::add);
        assertThat(consumer.poll()).isEqualTo(2);
        assertThat(handled).hasSize(1);
        assertThat(deadLetterReasons()).containsExactly("REPLAYED");
    }

    @Test
    void expiredMessageIsDeadLetteredAndNeverHandled() {
        Clock past = Clock.fixed(Instant.now().minus(Duration.ofHours(1)), ZoneOffset.UTC);
        api.xadd(API_STREAM, EnvelopeSigner.builder(fixtures.api(past), "jobs").lifetime(Duration.ofMinutes(5)).build()
                .seal("late".getBytes(UTF_8)).toFields());
        assertDeadLetteredAndNotHandled(QueueException.Reason.EXPIRED);
    }

    @Test
    void wrongScopeMessageIsDeadLetteredAndNeverHandled() {
        byte[] payload = "job".getBytes(UTF_8);
        String token = fixtures.api().mint(TokenRequest.to(Fixtures.QUEUE_ID).scopes("queue:other:publish")
                .claim("pld", Queues.digest(payload)).build());
        api.xadd(API_STREAM, Envelope.of(payload, token).toFields());
        assertDeadLetteredAndNotHandled(QueueException.Reason.WRONG_SCOPE);
    }

    @Test
    void wrongPublisherMessageIsDeadLetteredAndNeverHandled() {
        api.xadd(API_STREAM, EnvelopeSigner.builder(fixtures.billing(), "jobs").build().seal("job".getBytes(UTF_8))
                .toFields());
        assertDeadLetteredAndNotHandled(QueueException.Reason.WRONG_PUBLISHER);
    }

    @Test
    void malformedEntryIsDeadLetteredAndNeverHandled() {
        api.xadd(API_STREAM, Map.of("job", "unsigned"));
        assertDeadLetteredAndNotHandled(QueueException.Reason.MALFORMED);
    }

    /**
     * Issue 14, finding 7, in the queue: api's genuine key (stolen, or a minter with a broken clock)
     * signs dates out of range. Before the fix, the first four made {@code ServiceTokens.verify}
     * throw {@code DateTimeException} ({@code Instant.ofEpochSecond} past {@code Instant.MAX}, or
     * after {@code exp + skew} or {@code exp - iat} overflowed), which {@code EnvelopeVerifier} and
     * {@code QueueConsumer} do not catch: it escaped {@code poll()} unaudited, and the entry stayed
     * pending, to throw again when reclaimed. (The last two were refused before too, as EXPIRED and
     * as a fraction.) Now each is a MALFORMED token: dead-lettered, audited, never handled.
     */
    @ParameterizedTest(name = "{0}: {1}")
    @CsvSource(delimiter = '|', value = {
        "exp | \"exp\":9223372036854775807,\"iat\":9223372036854775747",
        "nbf | \"iat\":NOW,\"nbf\":9223372036854775807,\"exp\":LATER",
        "iat | \"iat\":40000000000000000,\"exp\":40000000000000060",
        "iat | \"iat\":-9223372036854775808,\"exp\":LATER",
        "exp | \"iat\":NOW,\"exp\":9223372036854775807",
        "exp | \"iat\":NOW,\"exp\":1e300"})
    void messageSignedWithAnOutOfRangeDateIsDeadLetteredNotThrownFromPoll(String claim, String dates)
            throws Exception {
        long now = Instant.now().getEpochSecond();
        byte[] payload = "rm -rf".getBytes(UTF_8);
        Envelope sane = Envelope.of(payload, signedWithApisKey("\"iat\":" + now + ",\"exp\":" + (now + 300), payload));
        assertThat(fixtures.verifier().verify(sane).publisherService()).as("the hand-made token is otherwise valid")
                .isEqualTo("api");
        String hostile = dates.replace("NOW", String.valueOf(now)).replace("LATER", String.valueOf(now + 300));
        api.xadd(API_STREAM, Envelope.of(payload, signedWithApisKey(hostile, payload)).toFields());

        assertDeadLetteredAndNotHandled(QueueException.Reason.MALFORMED); // poll() returns 1: it did not throw
        for (String action : new String[] {"token.rejected", "queue.message_rejected"}) {
            assertThat(fixtures.audit.withAction(action)).as(action).singleElement().satisfies(event -> {
                assertThat(event.fields()).containsEntry("reason", "MALFORMED");
                assertThat(event.fields().get("detail")).contains("claim '" + claim + "'");
            });
        }
    }

    /** A token for the jobs queue, with these date members, signed as the minter would but by hand. */
    private String signedWithApisKey(String dates, byte[] payload) throws Exception {
        Base64.Encoder base64 = Base64.getUrlEncoder().withoutPadding();
        String header = "{\"alg\":\"EdDSA\",\"kid\":\"api-1\",\"typ\":\"" + ServiceTokens.TYPE + "\"}";
        String claims = "{\"iss\":\"" + Fixtures.API + "\",\"sub\":\"" + Fixtures.API + "\",\"aud\":\""
                + Fixtures.QUEUE_ID + "\"," + dates + ",\"jti\":\"" + UUID.randomUUID() + "\",\"scope\":[\""
                + Queues.publishScope("jobs") + "\"],\"" + Queues.PAYLOAD_DIGEST_CLAIM + "\":\""
                + Queues.digest(payload) + "\"}";
        String input = base64.encodeToString(header.getBytes(UTF_8)) + "."
                + base64.encodeToString(claims.getBytes(UTF_8));
        Signature ed25519 = Signature.getInstance("Ed25519");
        ed25519.initSign(fixtures.apiKeyPair.getPrivate());
        ed25519.update(input.getBytes(StandardCharsets.US_ASCII));
        return input + "." + base64.encodeToString(ed25519.sign());
    }

    @Test
    void workerKilledMidMessageIsRedeliveredAndHandledExactlyOnceByIdempotentApplication() throws Exception {
        Set<String> done = ConcurrentHashMap.newKeySet(); // the application's record of finished jobs, by jti
        List<String> effects = new CopyOnWriteArrayList<>();
        MessageHandler application = message -> {
            if (done.add(message.jti())) {
                effects.add(new String(message.payload(), UTF_8));
            }
        };
        QueueConsumer dying = consumer("w1", message -> {
            application.handle(message);
            throw new IllegalStateException("killed before the ack");
        });
        QueuePublisher.of(api, fixtures.signer()).publish("charge".getBytes(UTF_8));
        assertThat(dying.poll()).isEqualTo(1);
        assertThat(worker.xpending(API_STREAM, "workers").getCount()).isEqualTo(1);

        RedisCommands<String, String> other = connectAs("worker");
        QueueConsumer survivor = QueueConsumer.builder(other, verifier, application).group("workers").consumer("w2")
                .claimAfter(Duration.ZERO).auditLog(fixtures.audit).build();
        assertThat(survivor.poll()).isEqualTo(1);
        assertThat(effects).containsExactly("charge");
        assertThat(worker.xpending(API_STREAM, "workers").getCount()).isZero();
        assertThat(deadLetterReasons()).isEmpty();
        assertThat(fixtures.audit.withAction("queue.handler_failed")).hasSize(1);
    }

    @Test
    @SuppressWarnings("unchecked") // Lettuce's generic varargs of stream offsets
    void fakeConsumerReadingAnAppendedCopyWithoutVerifyingCannotMakeTheJobRunTwice() {
        QueueConsumer consumer = everyPollKeepsTheStreams("w1", handled::add);
        Map<String, String> fields = fixtures.signer().seal("charge 100".getBytes(UTF_8)).toFields();
        String original = api.xadd(API_STREAM, fields);
        assertThat(consumer.poll()).isEqualTo(1);
        // The attack, with no signing key: the publisher's Redis password appends a copy, and a fake
        // consumer with a worker's password reads it without verifying, so it is "delivered before".
        String copy = api.xadd(API_STREAM, fields);
        RedisCommands<String, String> fake = connectAs("worker");
        assertThat(fake.xreadgroup(Consumer.from("workers", "fake"), XReadArgs.StreamOffset.lastConsumed(API_STREAM)))
                .extracting(StreamMessage::getId).containsExactly(copy);

        assertThat(consumer.poll()).as("the copy, reclaimed").isEqualTo(1);
        assertThat(handled).extracting(VerifiedMessage::jti).hasSize(1);
        assertThat(deadLetterReasons()).containsExactly("REPLAYED");
        assertThat(fixtures.audit.withAction("queue.dead_lettered")).singleElement()
                .satisfies(e -> assertThat(e.fields()).containsEntry("entry", copy)
                        .containsEntry("reason", "REPLAYED"));
        assertThat(fixtures.audit.withAction("queue.message_rejected")).singleElement()
                .satisfies(e -> assertThat(e.fields()).containsEntry("reason", "REPLAYED"));
        assertThat(worker.xpending(API_STREAM, "workers").getCount()).isZero();
        assertThat(original).isNotEqualTo(copy);
    }

    @Test
    @SuppressWarnings("unchecked") // Lettuce's generic varargs of stream offsets
    void fakeConsumerHoldingTheOriginalAndACopyStillGetsTheJobRunOnce() {
        QueueConsumer consumer = everyPollKeepsTheStreams("w1", handled::add);
        Map<String, String> fields = fixtures.signer().seal("charge 100".getBytes(UTF_8)).toFields();
        String original = api.xadd(API_STREAM, fields);
        String copy = api.xadd(API_STREAM, fields);
        RedisCommands<String, String> fake = connectAs("worker");
        assertThat(fake.xreadgroup(Consumer.from("workers", "fake"), XReadArgs.StreamOffset.lastConsumed(API_STREAM)))
                .extracting(StreamMessage::getId).containsExactly(original, copy);

        assertThat(consumer.poll()).as("both reclaimed, neither ever verified").isEqualTo(2);
        assertThat(handled).hasSize(1);
        assertThat(deadLetterReasons()).containsExactly("REPLAYED");
        assertThat(fixtures.audit.withAction("queue.dead_lettered")).singleElement()
                .satisfies(e -> assertThat(e.fields()).containsEntry("entry", copy));
        assertThat(worker.xpending(API_STREAM, "workers").getCount()).isZero();
    }

    @Test
    void replayGuardFailingOnABatchLetsNoEntrySkipTheCheck() {
        QueuePublisher publisher = QueuePublisher.of(api, fixtures.signer());
        String first = publisher.publish("first".getBytes(UTF_8));
        publisher.publish("second".getBytes(UTF_8));
        Map<String, String> firstFields = operator.xrange(API_STREAM, Range.create(first, first)).get(0).getBody();
        String copy = api.xadd(API_STREAM, firstFields); // a replayed copy, in the same batch
        publisher.publish("third".getBytes(UTF_8));
        QueueConsumer consumer = everyPollKeepsTheStreams("w1", handled::add);
        redis.executeAsAdmin("ACL", "SETUSER", "worker", "-set"); // the replay guard's Redis refuses its writes
        try {
            for (int round = 0; round < 2; round++) { // the batch, then a reclaim while the guard is still down
                assertThatThrownBy(consumer::poll).isInstanceOfSatisfying(QueueException.class, e -> {
                    assertThat(e.reason()).isEqualTo(QueueException.Reason.REPLAY_CHECK_FAILED);
                    assertThat(e.isRejection()).isFalse();
                });
                assertThat(handled).as("no handler of the batch ran").isEmpty();
                assertThat(worker.xpending(API_STREAM, "workers").getCount()).as("all stay pending").isEqualTo(4);
            }
            assertThat(fixtures.audit.withAction("queue.replay_check_failed")).hasSize(2)
                    .allSatisfy(e -> assertThat(e.fields()).containsEntry("group", "workers")
                            .containsEntry("reason", "REPLAY_CHECK_FAILED"));
            assertThat(deadLetterReasons()).isEmpty();
        } finally {
            redis.executeAsAdmin("ACL", "SETUSER", "worker", "+set");
        }

        assertThat(consumer.poll()).as("all reclaimed and checked").isEqualTo(4);
        assertThat(handled).extracting(m -> new String(m.payload(), UTF_8)).containsExactly("first", "second", "third");
        assertThat(deadLetterReasons()).containsExactly("REPLAYED");
        assertThat(fixtures.audit.withAction("queue.dead_lettered")).singleElement()
                .satisfies(e -> assertThat(e.fields()).containsEntry("entry", copy));
        assertThat(worker.xpending(API_STREAM, "workers").getCount()).isZero();
        assertThat(fixtures.audit.withAction(QueueAudit.DELIVERY_DEFERRED)).as("no lease was left behind").isEmpty();
    }

    @Test
    void recordsRefusedMidBatchAreKeptAndWrittenLaterSoNothingRunsTwice() {
        QueuePublisher publisher = QueuePublisher.of(api, fixtures.signer());
        for (String job : List.of("first", "second", "third")) {
            publisher.publish(job.getBytes(UTF_8));
        }
        QueueConsumer consumer = everyPollKeepsTheStreams("w1", message -> {
            handled.add(message);
            if (new String(message.payload(), UTF_8).equals("second")) {
                // From here on, the replay guard's Redis refuses its writes (NOPERM for SET).
                redis.executeAsAdmin("ACL", "SETUSER", "worker", "-set");
            }
        });
        try {
            assertThat(consumer.poll()).isEqualTo(3);
            assertThat(fixtures.audit.withAction(QueueAudit.HANDLED_RECORD_FAILED)).as("kept in memory")
                    .extracting(e -> e.fields().get("entry")).hasSize(2);
        } finally {
            redis.executeAsAdmin("ACL", "SETUSER", "worker", "+set");
        }
        assertThat(handled).extracting(m -> new String(m.payload(), UTF_8)).containsExactly("first", "second", "third");
        assertThat(worker.xpending(API_STREAM, "workers").getCount()).isZero();

        assertThat(consumer.poll()).as("the kept records written, nothing delivered again").isZero();
        assertThat(handled).hasSize(3);
        assertThat(deadLetterReasons()).isEmpty();
    }

    @Test
    void refusedMessagesInABatchDoNotAffectTheOthers() throws Exception {
        QueuePublisher publisher = QueuePublisher.of(api, fixtures.signer());
        String first = publisher.publish("first".getBytes(UTF_8));
        Map<String, String> firstFields = operator.xrange(API_STREAM, Range.create(first, first)).get(0).getBody();
        String copy = api.xadd(API_STREAM, firstFields);
        String forged = api.xadd(API_STREAM, EnvelopeSigner.builder(ServiceTokens.builder().identity(Fixtures.API)
                .signingKey(TokenKey.generate(TokenAlgorithm.ED25519, "api-1")).build(), "jobs").build()
                .seal("forged".getBytes(UTF_8)).toFields());
        String tampered = api.xadd(API_STREAM, Map.of("v", "1", "tok", firstFields.get("tok"),
                "pld", Base64.getUrlEncoder().withoutPadding().encodeToString("tampered".getBytes(UTF_8))));
        publisher.publish("last".getBytes(UTF_8));
        QueueConsumer consumer = everyPollKeepsTheStreams("w1", handled::add);

        assertThat(consumer.poll()).isEqualTo(5);

        assertThat(handled).extracting(m -> new String(m.payload(), UTF_8)).containsExactly("first", "last");
        assertThat(fixtures.audit.withAction("queue.dead_lettered")).extracting(e -> e.fields().get("entry") + " "
                + e.fields().get("reason")).containsExactly(copy + " REPLAYED", forged + " FORGED",
                tampered + " TAMPERED");
        assertThat(worker.xpending(API_STREAM, "workers").getCount()).isZero();
        assertThat(consumer.poll()).isZero();
        assertThat(handled).hasSize(2);
    }

    @Test
    void batchAcknowledgementRefusedAfterTheHandlersRanLeavesTheBatchPendingAndRunsNothingTwice() {
        QueuePublisher publisher = QueuePublisher.of(api, fixtures.signer());
        for (int i = 0; i < 3; i++) {
            publisher.publish(("job-" + i).getBytes(UTF_8));
        }
        QueueConsumer consumer = everyPollKeepsTheStreams("w1", message -> {
            handled.add(message);
            if (handled.size() == 3) { // every handler of the batch ran and was recorded; its XACK is refused
                redis.executeAsAdmin("ACL", "SETUSER", "worker", "-xack");
            }
        });
        try {
            assertThatThrownBy(consumer::poll).isInstanceOf(RedisCommandExecutionException.class)
                    .hasMessageContaining("NOPERM");
            assertThat(handled).hasSize(3);
            assertThat(worker.xpending(API_STREAM, "workers").getCount()).as("handled, recorded, not acknowledged")
                    .isEqualTo(3);
        } finally {
            redis.executeAsAdmin("ACL", "SETUSER", "worker", "+xack");
        }
        long xacks = xackCalls();

        assertThat(consumer.poll()).as("redelivered and acknowledged as handled before").isEqualTo(3);

        assertThat(xackCalls() - xacks).as("the batch's acknowledgements in one XACK").isEqualTo(1);
        assertThat(handled).extracting(m -> new String(m.payload(), UTF_8)).containsExactly("job-0", "job-1", "job-2");
        assertThat(worker.xpending(API_STREAM, "workers").getCount()).isZero();
        assertThat(deadLetterReasons()).isEmpty();
        assertThat(consumer.poll()).isZero();
    }

    /** How many XACK commands the server ran so far. */
    private static long xackCalls() {
        return redis.executeAsAdmin("INFO", "commandstats").lines().filter(line -> line.startsWith("cmdstat_xack:"))
                .map(line -> line.replaceAll("^cmdstat_xack:calls=(\\d+),.*$", "$1")).mapToLong(Long::parseLong)
                .findFirst().orElse(0);
    }

    @Test
    void consumerRefusesAReplayGuardThatCannotBindEntries() {
        assertThatThrownBy(() -> QueueConsumer.builder(worker, fixtures.verifier(), handled::add).group("workers")
                .consumer("w1").build()).isInstanceOfSatisfying(QueueException.class, e -> {
                    assertThat(e.reason()).isEqualTo(QueueException.Reason.INVALID_CONFIGURATION);
                    assertThat(e.getMessage()).contains("RedisReplayGuard");
                });
    }

    @Test
    void messageWhoseHandlerAlwaysFailsIsDeadLetteredAfterMaxDeliveries() {
        QueueConsumer consumer = QueueConsumer.builder(worker, verifier, message -> {
            throw new IllegalStateException("always fails");
        }).group("workers").consumer("w1").claimAfter(Duration.ZERO).maxDeliveries(2).auditLog(fixtures.audit).build();
        QueueConsumer.createGroup(operator, verifier, "workers");
        QueuePublisher.of(api, fixtures.signer()).publish("poison pill".getBytes(UTF_8));
        for (int i = 0; i < 3; i++) {
            consumer.poll();
        }
        assertThat(deadLetterReasons()).containsExactly("TOO_MANY_DELIVERIES");
        assertThat(worker.xpending(API_STREAM, "workers").getCount()).isZero();
    }

    @Test
    void twoConsumerGroupsSharingOneReplayGuardEachHandleAMessageOnce() {
        QueueConsumer.createGroup(operator, verifier, "audit");
        List<VerifiedMessage> audited = new CopyOnWriteArrayList<>();
        QueueConsumer workers = consumer("w1", handled::add);
        QueueConsumer audit = QueueConsumer.builder(worker, verifier, audited::add).group("audit").consumer("a1")
                .auditLog(fixtures.audit).build();
        Map<String, String> fields = fixtures.signer().seal("job".getBytes(UTF_8)).toFields();
        api.xadd(API_STREAM, fields);
        api.xadd(API_STREAM, fields); // a replayed copy
        assertThat(workers.poll()).isEqualTo(2);
        assertThat(audit.poll()).isEqualTo(2);
        assertThat(handled).hasSize(1);
        assertThat(audited).hasSize(1);
        assertThat(deadLetterReasons()).containsExactly("REPLAYED", "REPLAYED");
    }

    @Test
    void missingConsumerGroupIsALoudErrorNotAnEmptyQueue() {
        operator.xgroupDestroy(API_STREAM, "workers"); // the stream is there, its group is not
        QueueConsumer consumer = QueueConsumer.builder(worker, verifier, handled::add).group("workers").consumer("w1")
                .auditLog(fixtures.audit).build();
        QueuePublisher.of(api, fixtures.signer()).publish("job".getBytes(UTF_8));
        assertThatThrownBy(consumer::poll).isInstanceOfSatisfying(QueueException.class,
                e -> assertThat(e.reason()).isEqualTo(QueueException.Reason.NO_GROUP));
        assertThat(fixtures.audit.withAction("queue.group_missing")).isNotEmpty();
        assertThatThrownBy(() -> QueueConsumer.createGroup(worker, verifier, "workers"))
                .isInstanceOf(RedisCommandExecutionException.class).hasMessageContaining("NOPERM");
        QueueConsumer.createGroup(operator, verifier, "workers");
        QueueConsumer.createGroup(operator, verifier, "workers"); // idempotent
        assertThat(consumer.poll()).isEqualTo(1);
        assertThat(handled).hasSize(1);
    }

    @Test
    void aStreamRedisLostEntirelyIsTheSameLoudError() {
        QueueConsumer consumer = consumer("w1", handled::add);
        redis.executeAsAdmin("DEL", API_STREAM); // as after a restart without persistence
        assertThatThrownBy(consumer::poll).isInstanceOfSatisfying(QueueException.class,
                e -> assertThat(e.reason()).isEqualTo(QueueException.Reason.NO_GROUP));
        assertThat(fixtures.audit.withAction("queue.group_missing")).hasSize(1);
    }

    @Test
    @SuppressWarnings("unchecked") // Lettuce's generic varargs of stream offsets
    void publisherTryingToReadTheQueueIsRefusedByRedis() {
        QueueConsumer.createGroup(operator, verifier, "workers");
        QueuePublisher.of(api, fixtures.signer()).publish("job".getBytes(UTF_8));
        assertNoPermission(() -> api.xreadgroup(Consumer.from("workers", "api"),
                XReadArgs.StreamOffset.lastConsumed(API_STREAM)));
        assertNoPermission(() -> api.xrange(API_STREAM, Range.create("-", "+")));
        assertNoPermission(() -> api.xadd(DEAD, Map.of("reason", "forged")));
    }

    @Test
    void workerTryingToPublishIsRefusedByRedis() {
        Map<String, String> fields = Map.of("job", "x");
        assertNoPermission(() -> worker.xadd(API_STREAM, fields));
        assertNoPermission(() -> worker.xadd(RedisAcl.streamKey("jobs", "worker"), fields));
        assertNoPermission(() -> QueuePublisher.of(worker, fixtures.signer()).publish(new byte[1]));
    }

    @Test
    void entryIdFarInTheFutureIsTreatedAsPoisonAndAlerted() {
        long future = System.currentTimeMillis() + Duration.ofDays(365).toMillis();
        api.xadd(API_STREAM, new XAddArgs().id(future + "-0"),
                fixtures.signer().seal("job".getBytes(UTF_8)).toFields());
        assertDeadLetteredAndNotHandled(QueueException.Reason.POISONED);
        assertThat(fixtures.audit.withAction("queue.stream_poisoned")).hasSize(1);
    }

    @Test
    void unhandledEntriesTrimmedByAPublishersCredentialsAreAlerted() {
        QueueConsumer consumer = everyPollKeepsTheStreams("w1", handled::add);
        QueuePublisher publisher = publishAndHandle(consumer, "a", "b");
        publisher.publish("c".getBytes(UTF_8));
        publisher.publish("d".getBytes(UTF_8));
        // A publisher's credentials in the wrong hands: XADD ... MAXLEN 1 drops c and d, never handled.
        api.xadd(API_STREAM, XAddArgs.Builder.maxlen(1), Map.of("job", "trim"));
        consumer.poll();
        assertThat(fixtures.audit.withAction("queue.stream_shrank")).hasSize(1);
        assertThat(fixtures.audit.withAction("queue.stream_shrank").get(0).fields()).containsEntry("lost", "2")
                .containsEntry("length", "1");
        consumer.poll();
        assertThat(fixtures.audit.withAction("queue.stream_shrank")).as("alerted once, not on every poll").hasSize(1);
        assertThat(handled).extracting(m -> new String(m.payload(), UTF_8)).containsExactly("a", "b");
    }

    @Test
    void aTrimByOthersIsAlertedEvenWhenItDroppedOnlyHandledEntries() {
        QueueConsumer consumer = everyPollKeepsTheStreams("w1", handled::add);
        publishAndHandle(consumer, "a", "b");
        api.xadd(API_STREAM, XAddArgs.Builder.maxlen(1), Map.of("job", "trim")); // drops a and b, both handled
        consumer.poll();
        assertThat(fixtures.audit.withAction("queue.stream_shrank")).singleElement()
                .satisfies(event -> assertThat(event.fields()).containsEntry("lost", "0"));
    }

    @Test
    void acknowledgedEntriesAreTrimmedButPendingAndUndeliveredOnesAreKept() {
        QueueConsumer.createGroup(operator, verifier, "audit"); // a second group that has read nothing yet
        QueueConsumer consumer = everyPollKeepsTheStreams("w1", message -> {
            if (new String(message.payload(), UTF_8).equals("fails")) {
                throw new IllegalStateException("handler down");
            }
            handled.add(message);
        });
        QueuePublisher publisher = QueuePublisher.of(api, fixtures.signer());
        for (int i = 0; i < 5; i++) {
            publisher.publish(("job-" + i).getBytes(UTF_8));
        }
        consumer.poll();
        consumer.poll();
        assertThat(operator.xlen(API_STREAM)).as("the audit group has not read them").isEqualTo(5);

        operator.xgroupDestroy(API_STREAM, "audit");
        consumer.poll();
        assertThat(operator.xlen(API_STREAM)).as("all handled: only the last delivered entry stays").isEqualTo(1);

        String pending = publisher.publish("fails".getBytes(UTF_8));
        publisher.publish("later-1".getBytes(UTF_8));
        publisher.publish("later-2".getBytes(UTF_8));
        consumer.poll(); // handles later-1 and later-2; "fails" stays pending
        consumer.poll(); // trims below the pending entry (and retries it, failing again)
        assertThat(operator.xrange(API_STREAM, Range.create("-", "+"))).extracting(StreamMessage::getId)
                .hasSize(3).first().isEqualTo(pending);
        assertThat(handled).hasSize(7);
        assertThat(fixtures.audit.withAction("queue.stream_shrank")).as("our own trims are no alert").isEmpty();
    }

    @Test
    void trimmingCanBeTurnedOff() {
        QueueConsumer consumer = QueueConsumer.builder(worker, verifier, handled::add).group("workers").consumer("w1")
                .claimAfter(Duration.ZERO).trimAcknowledged(false).auditLog(fixtures.audit).build();
        QueueConsumer.createGroup(operator, verifier, "workers");
        QueuePublisher publisher = QueuePublisher.of(api, fixtures.signer());
        for (int i = 0; i < 3; i++) {
            publisher.publish(("job-" + i).getBytes(UTF_8));
        }
        consumer.poll();
        consumer.poll();
        assertThat(handled).hasSize(3);
        assertThat(operator.xlen(API_STREAM)).isEqualTo(3);
    }

    private QueuePublisher publishAndHandle(QueueConsumer consumer, String... payloads) {
        QueuePublisher publisher = QueuePublisher.of(api, fixtures.signer());
        for (String payload : payloads) {
            publisher.publish(payload.getBytes(UTF_8));
        }
        assertThat(consumer.poll()).isEqualTo(payloads.length);
        return publisher;
    }

    /** A consumer whose housekeeping (loss check, trim, reclaim) runs on every poll. */
    @Test
    void messageRefusedAsExpiredBecauseThePublishersClockRanAheadIsKeptAndReplayedOnceByTheOperator() {
        Clock ahead = Clock.offset(Clock.systemUTC(), Duration.ofMinutes(10));
        QueuePublisher.of(api, EnvelopeSigner.builder(fixtures.api(ahead), "jobs").build())
                .publish("order 42".getBytes(UTF_8));
        QueueConsumer consumer = consumer("w1", handled::add);
        assertThat(consumer.poll()).isEqualTo(1);
        assertThat(handled).isEmpty();
        StreamMessage<String, String> letter = operator.xrange(DEAD, Range.create("-", "+")).get(0);
        assertThat(letter.getBody()).containsEntry("reason", "EXPIRED").containsKeys("v", "tok", "pld");

        DeadLetters deadLetters = DeadLetters.builder(operator, verifier).auditLog(fixtures.audit).build();
        String replayed = deadLetters.replay(letter.getId(), QueuePublisher.of(api, fixtures.signer()));

        assertThat(consumer.poll()).isEqualTo(1);
        assertThat(handled).extracting(m -> new String(m.payload(), UTF_8)).containsExactly("order 42");
        assertThat(fixtures.audit.withAction("queue.dead_letter_replayed")).singleElement().satisfies(e ->
                assertThat(e.fields()).containsEntry("dead_letter", letter.getId()).containsEntry("entry", replayed)
                        .containsEntry("reason", "EXPIRED"));
    }

    @Test
    void forgedMessagesDeadLetterKeepsOnlyMetadataAndCannotBeReplayed() {
        ServiceTokens forger = ServiceTokens.builder().identity(Fixtures.API)
                .signingKey(TokenKey.generate(TokenAlgorithm.ED25519, "api-1")).build();
        api.xadd(API_STREAM, EnvelopeSigner.builder(forger, "jobs").build().seal("rm -rf".getBytes(UTF_8)).toFields());
        consumer("w1", handled::add).poll();
        StreamMessage<String, String> letter = operator.xrange(DEAD, Range.create("-", "+")).get(0);
        assertThat(letter.getBody()).containsEntry("reason", "FORGED").doesNotContainKeys("tok", "pld");

        long before = operator.xlen(API_STREAM);
        assertThatThrownBy(() -> DeadLetters.builder(operator, verifier).auditLog(fixtures.audit).build()
                .replay(letter.getId(), QueuePublisher.of(api, fixtures.signer())))
                .isInstanceOfSatisfying(QueueException.class,
                        e -> assertThat(e.reason()).isEqualTo(QueueException.Reason.NOT_REPLAYABLE));
        assertThat(fixtures.audit.withAction("queue.replay_refused")).singleElement()
                .satisfies(e -> assertThat(e.fields()).containsEntry("reason", "NOT_REPLAYABLE"));
        assertThat(operator.xlen(API_STREAM)).as("nothing published").isEqualTo(before);
    }

    @Test
    void deadLetterFakedWithAWorkersCredentialsCannotMakeThePublisherSignItsPayload() {
        Map<String, String> genuine = fixtures.signer().seal("pay 10".getBytes(UTF_8)).toFields();
        Map<String, String> fake = new java.util.LinkedHashMap<>(Map.of("reason", "EXPIRED", "stream", API_STREAM,
                "entry", "1-0", "group", "workers", "detail", "expired"));
        fake.putAll(genuine);
        fake.put("pld", Envelope.encode("pay 10000".getBytes(UTF_8)));
        String id = worker.xadd(DEAD, fake); // a worker may write dead letters

        assertThatThrownBy(() -> DeadLetters.builder(operator, verifier).auditLog(fixtures.audit).build()
                .replay(id, QueuePublisher.of(api, fixtures.signer())))
                .isInstanceOfSatisfying(QueueException.class,
                        e -> assertThat(e.reason()).isEqualTo(QueueException.Reason.TAMPERED));
        assertThat(fixtures.audit.withAction("queue.replay_refused")).singleElement()
                .satisfies(e -> assertThat(e.fields()).containsEntry("reason", "TAMPERED"));
        assertThat(operator.xlen(API_STREAM)).as("nothing published").isZero();
    }

    @Test
    void publisherRefusesAStreamRedisLostInsteadOfRecreatingItWithoutItsGroup() {
        QueuePublisher publisher = QueuePublisher.builder(api, fixtures.signer()).auditLog(fixtures.audit).build();
        publisher.publish("kept".getBytes(UTF_8));
        redis.executeAsAdmin("DEL", API_STREAM); // the node holding the queue came back without its data

        assertThatThrownBy(() -> publisher.publish("unseen".getBytes(UTF_8)))
                .isInstanceOfSatisfying(QueueException.class, e -> {
                    assertThat(e.reason()).isEqualTo(QueueException.Reason.NO_STREAM);
                    assertThat(e.isRejection()).isFalse();
                    assertThat(e.getMessage()).contains(API_STREAM, "QueueConsumer.createGroup");
                });
        assertThat(redis.executeAsAdmin("EXISTS", API_STREAM)).as("not re-created without its group").isEqualTo("0");
        assertThat(fixtures.audit.withAction("queue.stream_missing")).singleElement()
                .satisfies(e -> assertThat(e.fields()).containsEntry("stream", API_STREAM));

        QueueConsumer.createGroup(operator, verifier, "workers"); // the explicit setup step
        assertThat(publisher.publish("after setup".getBytes(UTF_8))).isNotBlank();
        QueueConsumer consumer = consumer("w1", handled::add);
        assertThat(consumer.poll()).isEqualTo(1);
    }

    @Test
    @SuppressWarnings("unchecked") // Lettuce's generic varargs of stream offsets
    void deliveriesRedisDroppedFromThePendingListAreFoundHandledOnceAndNotTrimmedUnseen() {
        QueueConsumer consumer = everyPollKeepsTheStreams("w1", handled::add);
        QueuePublisher publisher = QueuePublisher.of(api, fixtures.signer());
        publisher.publish("before".getBytes(UTF_8));
        assertThat(consumer.poll()).isEqualTo(1);
        for (int i = 0; i < 5; i++) {
            publisher.publish(("in-flight-" + i).getBytes(UTF_8));
        }
        // A worker had them delivered when Redis crashed; the reloaded AOF lost the deliveries (as Redis
        // 7.0 does when the default user may not EXEC): delivered, not pending, never handled.
        List<String> inFlight = worker.xreadgroup(Consumer.from("workers", "w1"), XReadArgs.Builder.count(5),
                XReadArgs.StreamOffset.lastConsumed(API_STREAM)).stream().map(StreamMessage::getId).toList();
        List<String> xack = new ArrayList<>(List.of("XACK", API_STREAM, "workers"));
        xack.addAll(inFlight);
        redis.executeAsAdmin(xack.toArray(String[]::new));

        assertThat(consumer.poll()).isEqualTo(5);
        assertThat(consumer.poll()).isZero();
        assertThat(handled).extracting(m -> new String(m.payload(), UTF_8)).containsExactly("before",
                "in-flight-0", "in-flight-1", "in-flight-2", "in-flight-3", "in-flight-4");
        assertThat(fixtures.audit.withAction("queue.deliveries_lost")).singleElement()
                .satisfies(e -> assertThat(e.fields()).containsEntry("lost", "5")
                        .containsEntry("first", inFlight.get(0)));
        assertThat(deadLetterReasons()).isEmpty();
        assertThat(operator.xlen(API_STREAM)).as("trimmed once handled").isEqualTo(1);
    }

    @Test
    void entriesRedeliveredAfterRedisRolledTheGroupBackAreAcknowledgedNotRunOrDeadLetteredAgain() {
        QueueConsumer consumer = everyPollKeepsTheStreams("w1", handled::add);
        QueuePublisher publisher = QueuePublisher.of(api, fixtures.signer());
        for (int i = 0; i < 3; i++) {
            publisher.publish(("job-" + i).getBytes(UTF_8));
        }
        consumer.poll();
        redis.executeAsAdmin("XGROUP", "SETID", API_STREAM, "workers", "0"); // Redis forgot the group's progress

        consumer.poll();
        consumer.poll();
        assertThat(handled).extracting(m -> new String(m.payload(), UTF_8)).containsExactly("job-0", "job-1", "job-2");
        assertThat(deadLetterReasons()).isEmpty();
        assertThat(worker.xpending(API_STREAM, "workers").getCount()).isZero();
    }

    private QueueConsumer everyPollKeepsTheStreams(String name, MessageHandler handler) {
        QueueConsumer.createGroup(operator, verifier, "workers");
        return QueueConsumer.builder(worker, verifier, handler).group("workers").consumer(name)
                .claimAfter(Duration.ZERO).auditLog(fixtures.audit).build();
    }

    /** The quick start of the module's README.md, line for line (apiTokens etc. come from the fixtures). */
    @Test
    void readmeQuickStart() throws Exception {
        ServiceTokens apiTokens = fixtures.api();
        RedisCommands<String, String> apiRedis = api;
        StatefulRedisConnection<String, String> workerConnection = this.workerConnection;
        RedisCommands<String, String> workerRedis = worker;
        RedisCommands<String, String> operatorRedis = operator;
        Policy policy = Fixtures.POLICY;
        KeySet publisherKeys = KeySet.of(fixtures.apiKey.verifyOnly());
        List<String> resized = new CopyOnWriteArrayList<>();
        MessageHandler resize = message -> resized.add(message.jti());

        // --- README quick start begins ---
        // A worker: verifies as the queue's identity, trusting only the publishers' keys.
        ServiceTokens queueTokens = ServiceTokens.builder()
                .identity("spiffe://queue.test/queue/jobs")                // the audience publishers mint for
                .verificationKeys(publisherKeys)                           // or a JwksSource pinned to them
                .trustIssuers("spiffe://queue.test/api")
                .build();
        EnvelopeVerifier verifier = EnvelopeVerifier.builder(queueTokens, "jobs")
                .policy(policy)                                            // who may publish to this queue
                .replayGuard(RedisReplayGuard.builder(workerConnection, KeyNamespace.of("worker")).build())
                .build();                                                  // (the connection: checks pipelined)
        // The setup step, as the operator: streams + group.
        QueueConsumer.createGroup(operatorRedis, verifier, "workers");

        // The API server (publisher): its ServiceTokens signs, the policy must grant it queue:jobs:publish.
        EnvelopeSigner signer = EnvelopeSigner.builder(apiTokens, "jobs").lifetime(Duration.ofMinutes(15)).build();
        QueuePublisher publisher = QueuePublisher.of(apiRedis, signer);      // XADD NOMKSTREAM to queue:{jobs}:api only
        String entryId = publisher.publish("{\"resize\":42}".getBytes(StandardCharsets.UTF_8));

        QueueConsumer consumer = QueueConsumer.builder(workerRedis, verifier, resize)  // idempotent by jti
                .group("workers").consumer("worker-1")
                .build();
        int processed = consumer.poll();                                   // call in a loop
        // --- README quick start ends ---

        assertThat(entryId).isNotBlank();
        assertThat(processed).isEqualTo(1);
        assertThat(resized).hasSize(1);
    }

    private void assertDeadLetteredAndNotHandled(QueueException.Reason reason) {
        QueueConsumer consumer = consumer("w1", handled::add);
        assertThat(consumer.poll()).isEqualTo(1);
        assertThat(handled).isEmpty();
        assertThat(deadLetterReasons()).containsExactly(reason.name());
        assertThat(worker.xpending(API_STREAM, "workers").getCount()).isZero();
        assertThat(fixtures.audit.withAction("queue.dead_lettered")).singleElement()
                .satisfies(e -> assertThat(e.fields()).containsEntry("reason", reason.name()));
        assertThat(consumer.poll()).isZero();
    }

    private List<String> deadLetterReasons() {
        return operator.xrange(DEAD, Range.create("-", "+")).stream().map(StreamMessage::getBody)
                .map(body -> body.get("reason")).toList();
    }

    private QueueConsumer consumer(String name, MessageHandler handler) {
        QueueConsumer.createGroup(operator, verifier, "workers");
        return QueueConsumer.builder(worker, verifier, handler).group("workers").consumer(name)
                .auditLog(fixtures.audit).build();
    }

    private RedisCommands<String, String> connectAs(String user) {
        return connectionAs(user).sync();
    }

    private StatefulRedisConnection<String, String> connectionAs(String user) {
        HardenedRedis client = Fixtures.redisClient(redis, user, PASSWORDS.get(user), dir).build();
        open.add(client);
        StatefulRedisConnection<String, String> connection = client.connect();
        open.add(connection);
        return connection;
    }

    private static void assertNoPermission(Runnable command) {
        assertThatThrownBy(command::run).isInstanceOf(RedisCommandExecutionException.class)
                .hasMessageContaining("NOPERM");
    }
}
