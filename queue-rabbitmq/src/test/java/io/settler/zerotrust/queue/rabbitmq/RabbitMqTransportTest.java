package io.settler.zerotrust.queue.rabbitmq;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.GetResponse;
import com.rabbitmq.client.ShutdownSignalException;
import io.lettuce.core.api.StatefulRedisConnection;
import io.settler.zerotrust.audit.AuditEvent;
import io.settler.zerotrust.credentials.CredentialSource;
import io.settler.zerotrust.credentials.TlsIdentity;
import io.settler.zerotrust.credentials.TrustBundle;
import io.settler.zerotrust.pki.DevCertificateAuthority;
import io.settler.zerotrust.pki.IssuedCertificate;
import io.settler.zerotrust.policy.Policy;
import io.settler.zerotrust.queue.Delivery;
import io.settler.zerotrust.queue.DeliverySource;
import io.settler.zerotrust.queue.Envelope;
import io.settler.zerotrust.queue.EnvelopeSender;
import io.settler.zerotrust.queue.EnvelopeSigner;
import io.settler.zerotrust.queue.EnvelopeVerifier;
import io.settler.zerotrust.queue.HandledRecords;
import io.settler.zerotrust.queue.QueueAudit;
import io.settler.zerotrust.queue.QueueConsumer;
import io.settler.zerotrust.queue.QueuePublisher;
import io.settler.zerotrust.queue.VerifiedMessage;
import io.settler.zerotrust.redis.HardenedRedis;
import io.settler.zerotrust.redis.KeyNamespace;
import io.settler.zerotrust.redis.PasswordSource;
import io.settler.zerotrust.redis.RedisReplayGuard;
import io.settler.zerotrust.testkit.LocalRabbitMq;
import io.settler.zerotrust.testkit.LocalRedis;
import io.settler.zerotrust.testkit.RecordingAuditLog;
import io.settler.zerotrust.tls.MtlsContext;
import io.settler.zerotrust.token.KeySet;
import io.settler.zerotrust.token.ServiceTokens;
import io.settler.zerotrust.token.TokenAlgorithm;
import io.settler.zerotrust.token.TokenKey;
import io.settler.zerotrust.token.TokenRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The RabbitMQ transport on one real node for the class (TLS 1.3 only, client certificates, EXTERNAL
 * login, users from a definitions file), with the replay guard on a real TLS Redis: messages go through
 * {@link QueuePublisher} and {@link QueueConsumer} unchanged; forged, tampered, unauthenticated and
 * misattributed messages are dead-lettered with their reason and never handled.
 */
class RabbitMqTransportTest {

    private static final String API = "spiffe://queue.test/api";
    private static final String BILLING = "spiffe://queue.test/billing";
    private static final String WORKER = "spiffe://queue.test/worker";
    private static final String OPERATOR = "spiffe://queue.test/operator";
    private static final String DEAD = RabbitMqTransport.deadLetterQueue("jobs");
    /** api may publish to jobs, billing only to other; worker consumes jobs. */
    private static final Policy POLICY = Policy.builder("queue.test")
            .service("api", api -> api.scopes("queue:jobs:publish"))
            .service("billing", billing -> billing.scopes("queue:other:publish"))
            .service("worker", worker -> worker.scopes("queue:jobs:consume"))
            .build();
    /**
     * Written by hand, wider than RabbitMqBrokerConfig renders (see RabbitMqBrokerConfigTest): api may
     * also write through the default exchange, which the raw publishes below use.
     */
    private static final String DEFINITIONS = """
            {
              "users": [
                {"name": "%1$s", "password_hash": "", "tags": []},
                {"name": "%2$s", "password_hash": "", "tags": []},
                {"name": "%3$s", "password_hash": "", "tags": []},
                {"name": "%4$s", "password_hash": "", "tags": []}
              ],
              "vhosts": [{"name": "jobs"}],
              "permissions": [
                {"user": "%1$s", "vhost": "jobs", "configure": "^$",
                 "write": "^(amq\\\\.default|zt\\\\.publish\\\\.jobs)$", "read": "^$"},
                {"user": "%2$s", "vhost": "jobs", "configure": "^$", "write": "^amq\\\\.default$", "read": "^$"},
                {"user": "%3$s", "vhost": "jobs", "configure": "^$",
                 "write": "^zt\\\\.dead-letter\\\\.jobs$",
                 "read": "^jobs$"},
                {"user": "%4$s", "vhost": "jobs", "configure": ".*", "write": ".*", "read": ".*"}
              ]
            }
            """.formatted(API, BILLING, WORKER, OPERATOR);

    private static final DevCertificateAuthority CA = DevCertificateAuthority.create("queue.test");
    private static final RecordingAuditLog AUDIT = RecordingAuditLog.logging();
    private static final TokenKey API_KEY = TokenKey.generate(TokenAlgorithm.ED25519, "api-1").forIssuers(API);

    private static LocalRabbitMq rabbit;
    private static LocalRedis redis;
    private static HardenedRedis redisClient;
    private static StatefulRedisConnection<String, String> guardConnection;
    private static RabbitMqConnection api;
    private static RabbitMqConnection billing;
    private static RabbitMqConnection worker;
    private static RabbitMqConnection operator;
    private static Channel admin;

    @TempDir
    static Path dir;

    private final List<VerifiedMessage> handled = new CopyOnWriteArrayList<>();
    private EnvelopeVerifier verifier;

    @BeforeAll
    static void start() throws Exception {
        rabbit = LocalRabbitMq.builder(CA).definitions(DEFINITIONS).start();
        redis = LocalRedis.builder(CA).user("worker", "guard-secret", "~worker:* +@all").start();
        Path password = Files.writeString(dir.resolve("worker.password"), "guard-secret\n");
        redisClient = HardenedRedis.builder().host(redis.host()).port(redis.tlsPort()).user("worker")
                .password(PasswordSource.fromFile(password)).credentials(credentials(redis.clientCertificate("worker")))
                .ioThreads(1).build();
        guardConnection = redisClient.connect();
        api = connections(rabbit.clientCertificate("api")).connect("api");
        billing = connections(rabbit.clientCertificate("billing")).connect("billing");
        worker = connections(rabbit.clientCertificate("worker")).connect("worker");
        operator = connections(rabbit.clientCertificate("operator")).connect("operator");
        RabbitMqTransport.declare(operator, "jobs", 10);
        admin = operator.connection().createChannel();
    }

    @AfterAll
    static void stop() throws Exception {
        for (AutoCloseable open : new AutoCloseable[] {api, billing, worker, operator, guardConnection, redisClient,
                rabbit, redis}) {
            if (open != null) {
                open.close();
            }
        }
    }

    @BeforeEach
    void emptyQueues() throws Exception {
        admin.queuePurge("jobs");
        admin.queuePurge(DEAD);
        AUDIT.clear();
        ServiceTokens queueTokens = ServiceTokens.builder().identity("spiffe://queue.test/queue/jobs")
                .verificationKeys(KeySet.of(API_KEY.verifyOnly())).trustIssuers(API).auditLog(AUDIT).build();
        verifier = EnvelopeVerifier.builder(queueTokens, "jobs").policy(POLICY)
                .replayGuard(RedisReplayGuard.builder(guardConnection.sync(), KeyNamespace.of("worker")).build())
                .auditLog(AUDIT).build();
    }

    @Test
    void publishedMessageIsVerifiedHandledAndAcknowledgedOverTls13WithExternalLogin() throws Exception {
        String id = QueuePublisher.of(sender(api), signer()).publish("resize 42".getBytes(UTF_8));

        RecordingSource source = new RecordingSource(source());
        assertThat(consumer(source, 5).poll()).isEqualTo(1);

        assertThat(handled).singleElement().satisfies(message -> {
            assertThat(message.payload()).isEqualTo("resize 42".getBytes(UTF_8));
            assertThat(message.publisher()).isEqualTo(API);
        });
        assertThat(source.ids).as("the sender's ID is the delivery's: user-id and message-id").containsExactly(id);
        assertThat(id).startsWith(API + " ");
        assertThat(source.publishers).as("the broker-validated user-id").containsExactly(API);
        assertThat(admin.messageCount("jobs")).as("acknowledged").isZero();
        assertThat(admin.messageCount(DEAD)).isZero();
        assertThat(rabbit.rabbitmqctl("list_connections", "-p", "jobs", "user", "auth_mechanism", "ssl_protocol"))
                .contains(API + "\tEXTERNAL\ttlsv1.3", WORKER + "\tEXTERNAL\ttlsv1.3");
    }

    @Test
    void failingHandlerIsRedeliveredWithTheBrokersCountRisingThenDeadLetteredWithTheMessage() throws Exception {
        QueuePublisher.of(sender(api), signer()).publish("poison pill".getBytes(UTF_8));
        RecordingSource source = new RecordingSource(source());
        QueueConsumer consumer = QueueConsumer.builder(source, verifier, message -> {
            throw new IllegalStateException("always fails");
        }).maxDeliveries(2).auditLog(AUDIT).build();

        for (int round = 0; round < 3; round++) {
            assertThat(consumer.poll()).as("round %s", round).isEqualTo(1);
        }

        assertThat(source.counts).as("x-delivery-count + 1").containsExactly(1L, 2L, 3L);
        assertThat(AUDIT.withAction(QueueAudit.HANDLER_FAILED)).hasSize(2);
        GetResponse letter = deadLetter();
        assertThat(letter.getProps().getHeaders()).containsKeys("tok", "v")
                .hasEntrySatisfying("reason", reason -> assertThat(reason).hasToString("TOO_MANY_DELIVERIES"));
        assertThat(letter.getBody()).isEqualTo("poison pill".getBytes(UTF_8));
        assertThat(letter.getProps().getUserId()).as("the worker wrote it, validated").isEqualTo(WORKER);
        assertThat(admin.messageCount("jobs")).isZero();
        assertThat(consumer.poll()).as("settled: never delivered again").isZero();
    }

    @Test
    void forgedAndTamperedEnvelopesAreDeadLetteredWithTheirReasonAndNeverHandled() throws Exception {
        ServiceTokens forger = ServiceTokens.builder().identity(API)
                .signingKey(TokenKey.generate(TokenAlgorithm.ED25519, "api-1")).build();
        sender(api).send(EnvelopeSigner.builder(forger, "jobs").build().seal("rm -rf".getBytes(UTF_8)));
        String genuineToken = signer().seal("pay 10".getBytes(UTF_8)).token();
        publishRaw(api, API, Map.of("v", "1", "tok", genuineToken), "pay 10000".getBytes(UTF_8));

        assertThat(consumer(source(), 5).poll()).isEqualTo(2);

        assertThat(handled).isEmpty();
        List<String> reasons = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            GetResponse letter = deadLetter();
            assertThat(letter.getProps().getHeaders()).as("no envelope kept of a forgery").doesNotContainKeys("tok");
            assertThat(letter.getBody()).isEmpty();
            reasons.add(letter.getProps().getHeaders().get("reason").toString());
        }
        assertThat(reasons).containsExactly("FORGED", "TAMPERED");
        assertThat(AUDIT.withAction(QueueAudit.DEAD_LETTERED)).hasSize(2);
        assertThat(admin.messageCount("jobs")).isZero();
    }

    @Test
    void replayedExpiredAndWrongScopeEnvelopesAreDeadLetteredWithTheirReasonAndNeverHandled() throws Exception {
        EnvelopeSender sender = sender(api);
        Envelope once = signer().seal("pay 10".getBytes(UTF_8));
        sender.send(once);
        sender.send(once); // the same envelope again: another message-id, the same token
        Clock past = Clock.fixed(Instant.now().minus(Duration.ofHours(1)), ZoneOffset.UTC);
        sender.send(EnvelopeSigner.builder(ServiceTokens.builder().identity(API).signingKey(API_KEY).policy(POLICY)
                .clock(past).build(), "jobs").lifetime(Duration.ofMinutes(5)).build().seal("late".getBytes(UTF_8)));
        byte[] payload = "job".getBytes(UTF_8);
        String otherScope = ServiceTokens.builder().identity(API).signingKey(API_KEY).build()
                .mint(TokenRequest.to("spiffe://queue.test/queue/jobs").scopes("queue:other:publish")
                        .claim("pld", Base64.getUrlEncoder().withoutPadding()
                                .encodeToString(MessageDigest.getInstance("SHA-256").digest(payload)))
                        .build());
        sender.send(Envelope.of(payload, otherScope));

        assertThat(consumer(source(), 5).poll()).isEqualTo(4);

        assertThat(handled).singleElement().satisfies(message -> assertThat(message.payload()).asString(UTF_8)
                .isEqualTo("pay 10"));
        List<String> reasons = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            reasons.add(deadLetter().getProps().getHeaders().get("reason").toString());
        }
        assertThat(reasons).containsExactly("REPLAYED", "EXPIRED", "WRONG_SCOPE");
        assertThat(admin.messageCount("jobs")).isZero();
        // Each refusal is audited twice for one delivery: the verifier's rejection, the consumer's dead letter.
        List<AuditEvent> rejected = AUDIT.withAction(QueueAudit.MESSAGE_REJECTED);
        List<AuditEvent> deadLettered = AUDIT.withAction(QueueAudit.DEAD_LETTERED);
        assertThat(rejected).extracting(event -> event.fields().get("reason"))
                .containsExactlyInAnyOrder("REPLAYED", "EXPIRED", "WRONG_SCOPE");
        assertThat(deadLettered).extracting(event -> event.fields().get("reason"))
                .containsExactly("REPLAYED", "EXPIRED", "WRONG_SCOPE");
        assertThat(rejected).extracting(event -> event.fields().get("entry")) // <source> <delivery ID>
                .containsExactlyInAnyOrderElementsOf(deadLettered.stream()
                        .map(event -> event.fields().get("stream") + " " + event.fields().get("entry")).toList())
                .allMatch(entry -> entry.startsWith("jobs " + API + " "));
    }

    /**
     * A consumer that keeps crashing on a message (here a raw channel that rejects it with requeue) never
     * reaches the library's {@code maxDeliveries}: the broker itself dead-letters the message once it has
     * been returned {@code deliveryLimit} times ({@code x-delivery-limit}, set by {@code declare}),
     * through the queue's dead-letter exchange, with RabbitMQ's {@code x-death} reason {@code delivery_limit}.
     */
    @Test
    void aMessageReturnedPastTheDeliveryLimitIsDeadLetteredByTheBrokerItself() throws Exception {
        String queue = "poison";
        int deliveryLimit = 2;
        RabbitMqTransport.declare(operator, queue, deliveryLimit);
        try (Channel crashing = operator.connection().createChannel()) {
            crashing.confirmSelect();
            crashing.basicPublish(RabbitMqTransport.publishExchange(queue), queue,
                    new AMQP.BasicProperties.Builder().userId(OPERATOR).deliveryMode(2).build(),
                    "poison pill".getBytes(UTF_8));
            crashing.waitForConfirmsOrDie(10_000);

            List<Object> deliveryCounts = new ArrayList<>();
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (admin.messageCount(RabbitMqTransport.deadLetterQueue(queue)) == 0) {
                assertThat(System.nanoTime()).as("the broker to dead-letter it; delivered %s", deliveryCounts)
                        .isLessThan(deadline);
                GetResponse delivery = crashing.basicGet(queue, false);
                if (delivery == null) {
                    Thread.sleep(20);
                    continue;
                }
                Map<String, Object> headers = delivery.getProps().getHeaders();
                deliveryCounts.add(headers == null ? "none" : String.valueOf(headers.get("x-delivery-count")));
                crashing.basicReject(delivery.getEnvelope().getDeliveryTag(), true); // the consumer crashed
            }

            assertThat(deliveryCounts).as("the quorum queue's count: the first delivery, then one per return")
                    .containsExactly("0", "1", "2");
            assertThat(admin.messageCount(queue)).isZero();
            assertThat(crashing.basicGet(queue, false)).as("never delivered again").isNull();
            GetResponse letter = admin.basicGet(RabbitMqTransport.deadLetterQueue(queue), true);
            assertThat(letter.getBody()).isEqualTo("poison pill".getBytes(UTF_8));
            assertThat(letter.getEnvelope().getExchange()).isEqualTo(RabbitMqTransport.deadLetterExchange(queue));
            assertThat(letter.getProps().getHeaders()).as("RabbitMQ's reason, not ours").doesNotContainKey("reason")
                    .hasEntrySatisfying("x-first-death-reason", reason -> assertThat(reason)
                            .hasToString("delivery_limit"));
            assertThat((List<?>) letter.getProps().getHeaders().get("x-death")).singleElement()
                    .satisfies(death -> assertThat(((Map<?, ?>) death).entrySet())
                            .extracting(entry -> entry.getKey() + "=" + entry.getValue())
                            .contains("reason=delivery_limit", "queue=" + queue,
                                    "exchange=" + RabbitMqTransport.publishExchange(queue)));
        } finally {
            admin.queueDelete(queue);
            admin.queueDelete(RabbitMqTransport.deadLetterQueue(queue));
            admin.exchangeDelete(RabbitMqTransport.publishExchange(queue));
            admin.exchangeDelete(RabbitMqTransport.deadLetterExchange(queue));
        }
    }

    @Test
    void aMessagePublishedByAnotherServiceIsRefusedAsWrongPublisher() throws Exception {
        // billing holds a copy of an api envelope and sends it as itself: the broker vouches for billing.
        publishRaw(billing, BILLING, Map.of("v", "1", "tok", signer().seal("job".getBytes(UTF_8)).token()),
                "job".getBytes(UTF_8));

        assertThat(consumer(source(), 5).poll()).isEqualTo(1);

        assertThat(handled).isEmpty();
        assertThat(AUDIT.single(QueueAudit.MESSAGE_REJECTED).fields()).containsEntry("reason", "WRONG_PUBLISHER");
        assertThat(deadLetter().getProps().getHeaders()).hasEntrySatisfying("publisher",
                publisher -> assertThat(publisher).hasToString(BILLING));
    }

    @Test
    void aMessageWithoutUserIdIsDeadLetteredByTheSourceUnread() throws Exception {
        publishRaw(api, null, Map.of("v", "1", "tok", signer().seal("job".getBytes(UTF_8)).token()),
                "job".getBytes(UTF_8));

        assertThat(consumer(source(), 5).poll()).as("nothing handed to the consumer").isZero();

        assertThat(handled).isEmpty();
        assertThat(AUDIT.single(RabbitMqAudit.MESSAGE_UNAUTHENTICATED).fields())
                .containsEntry("reason", "UNAUTHENTICATED").containsEntry("source", "jobs");
        assertThat(deadLetter().getProps().getHeaders()).hasEntrySatisfying("reason",
                reason -> assertThat(reason).hasToString("UNAUTHENTICATED"));
        assertThat(admin.messageCount("jobs")).isZero();
    }

    @Test
    void aSenderWhoseConnectionIsNotTheSignersPublisherIsRefused() {
        assertThatThrownBy(() -> sender(billing)).isInstanceOfSatisfying(RabbitMqException.class, e -> {
            assertThat(e.reason()).isEqualTo(RabbitMqException.Reason.INVALID_CONFIGURATION);
            assertThat(e.getMessage()).contains(BILLING, API);
        });
        assertThat(AUDIT.single(RabbitMqAudit.CONNECTION_REFUSED).fields()).containsEntry("identity", BILLING);
    }

    @Test
    void theBrokerRefusesAForgedUserId() throws Exception {
        Channel channel = api.connection().createChannel();
        channel.confirmSelect();
        channel.basicPublish("", "jobs", new AMQP.BasicProperties.Builder().userId(BILLING).messageId("m").build(),
                "job".getBytes(UTF_8));
        assertThatThrownBy(() -> channel.waitForConfirmsOrDie(10_000)).isInstanceOfSatisfying(
                ShutdownSignalException.class, e -> assertThat(e.getMessage()).contains("PRECONDITION_FAILED",
                        "user_id property set to '" + BILLING + "'"));
        assertThat(admin.messageCount("jobs")).isZero();
    }

    @Test
    void unroutableAndUnconfirmedPublishesAreTypedAuditedRefusals() throws Exception {
        EnvelopeSender noQueue = RabbitMqTransport.sender(api, signer()).exchange("", "missing").auditLog(AUDIT)
                .build();
        assertThatThrownBy(() -> QueuePublisher.of(noQueue, signer()).publish("job".getBytes(UTF_8)))
                .isInstanceOfSatisfying(RabbitMqException.class, e -> assertThat(e.reason())
                        .isEqualTo(RabbitMqException.Reason.NOT_ROUTED));
        EnvelopeSender noExchange = RabbitMqTransport.sender(api, signer()).exchange("no-such-exchange", "jobs")
                .auditLog(AUDIT).build();
        assertThatThrownBy(() -> QueuePublisher.of(noExchange, signer()).publish("job".getBytes(UTF_8)))
                .isInstanceOfSatisfying(RabbitMqException.class, e -> {
                    assertThat(e.reason()).isEqualTo(RabbitMqException.Reason.CHANNEL_FAILED);
                    assertThat(e.getMessage()).contains("no-such-exchange");
                });
        admin.queueDeclare("full", false, false, false, Map.of("x-max-length", 0, "x-overflow", "reject-publish"));
        try {
            EnvelopeSender full = RabbitMqTransport.sender(api, signer()).exchange("", "full")
                    .confirmTimeout(Duration.ofMillis(500)).auditLog(AUDIT).build(); // nacks are retried that long
            assertThatThrownBy(() -> QueuePublisher.of(full, signer()).publish("job".getBytes(UTF_8)))
                    .isInstanceOfSatisfying(RabbitMqException.class, e -> assertThat(e.reason())
                            .isEqualTo(RabbitMqException.Reason.NOT_CONFIRMED));
        } finally {
            admin.queueDelete("full");
        }
        assertThat(AUDIT.withAction(RabbitMqAudit.PUBLISH_REFUSED)).extracting(event -> event.fields().get("reason"))
                .containsExactly("NOT_ROUTED", "CHANNEL_FAILED", "NOT_CONFIRMED");
        assertThat(AUDIT.withAction(RabbitMqAudit.PUBLISH_RETRIED)).as("the nacks, sent again").isNotEmpty();
        assertThat(api.isOpen()).as("only the channel was closed").isTrue();
    }

    @Test
    void aSourceOnAQueueTheWorkerMayNotReadIsRefused() {
        DeliverySource source = RabbitMqTransport.source(worker, verifier).group("billing").auditLog(AUDIT).build();
        assertThatThrownBy(() -> source.receive(NO_RECORDS)).isInstanceOfSatisfying(RabbitMqException.class,
                e -> assertThat(e.getMessage()).contains("billing", WORKER));
        assertThat(AUDIT.single(RabbitMqAudit.RECEIVE_FAILED).fields()).containsEntry("group", "billing");
    }

    @Test
    void connectionsAreTls13OnlyAndRefuseAnotherCaOrAnUnknownUser() {
        IssuedCertificate apiCertificate = rabbit.clientCertificate("api");
        MtlsContext weak = MtlsContext.client(credentials(apiCertificate)).allowTls12().auditLog(AUDIT).build();
        assertThatThrownBy(() -> RabbitMqConnections.builder(weak).host(rabbit.host()).auditLog(AUDIT).build())
                .isInstanceOfSatisfying(RabbitMqException.class, e -> assertThat(e.reason())
                        .isEqualTo(RabbitMqException.Reason.INVALID_CONFIGURATION));

        IssuedCertificate otherCa = DevCertificateAuthority.create("queue.test").leaf("api").client().issue();
        assertThatThrownBy(() -> connections(otherCa).connect("intruder").close())
                .isInstanceOfSatisfying(RabbitMqException.class, e -> assertThat(e.reason())
                        .isEqualTo(RabbitMqException.Reason.CONNECTION_FAILED));
        assertThatThrownBy(() -> connections(rabbit.clientCertificate("stranger")).connect("stranger").close())
                .isInstanceOfSatisfying(RabbitMqException.class, e -> assertThat(e.getMessage())
                        .contains("spiffe://queue.test/stranger"));
        assertThat(AUDIT.withAction(RabbitMqAudit.CONNECTION_REFUSED)).extracting(event -> event.fields().get("reason"))
                .containsExactly("INVALID_CONFIGURATION", "CONNECTION_FAILED", "CONNECTION_FAILED");
    }

    @Test
    void theBrokersIdentityIsVerified() {
        MtlsContext expectsAnother = MtlsContext.client(credentials(rabbit.clientCertificate("api")))
                .expectedServer("spiffe://queue.test/not-the-broker").auditLog(AUDIT).build();
        assertThatThrownBy(() -> RabbitMqConnections.builder(expectsAnother).host(rabbit.host())
                .port(rabbit.tlsPort()).virtualHost("jobs").auditLog(AUDIT).build().connect("api").close())
                .isInstanceOfSatisfying(RabbitMqException.class, e -> assertThat(e.reason())
                        .isEqualTo(RabbitMqException.Reason.CONNECTION_FAILED));
    }

    private static final HandledRecords NO_RECORDS = new HandledRecords() {
        @Override
        public List<Boolean> finished(String group, String source, List<String> ids) {
            return ids.stream().map(id -> false).toList();
        }

        @Override
        public boolean claimLost(String source, String id, java.time.Instant until) {
            return false;
        }
    };

    private static RabbitMqConnections connections(IssuedCertificate certificate) {
        return RabbitMqConnections.builder(MtlsContext.client(credentials(certificate)).auditLog(AUDIT).build())
                .host(rabbit.host()).port(rabbit.tlsPort()).virtualHost("jobs").auditLog(AUDIT).build();
    }

    private static CredentialSource credentials(IssuedCertificate certificate) {
        return CredentialSource.fixed(TlsIdentity.of(certificate.privateKey(), certificate.chain()),
                TrustBundle.of(List.of(CA.rootCertificate())));
    }

    private static EnvelopeSigner signer() {
        return EnvelopeSigner.builder(ServiceTokens.builder().identity(API).signingKey(API_KEY).policy(POLICY)
                .build(), "jobs").build();
    }

    private static EnvelopeSender sender(RabbitMqConnection connection) {
        return RabbitMqTransport.sender(connection, signer()).auditLog(AUDIT).build();
    }

    private DeliverySource source() {
        return RabbitMqTransport.source(worker, verifier).auditLog(AUDIT).build();
    }

    private QueueConsumer consumer(DeliverySource source, int maxDeliveries) {
        return QueueConsumer.builder(source, verifier, handled::add).maxDeliveries(maxDeliveries).auditLog(AUDIT)
                .build();
    }

    /** Publishes with the raw client, as a publisher not using the library's sender could. */
    private static void publishRaw(RabbitMqConnection connection, String userId, Map<String, Object> headers,
            byte[] body) throws Exception {
        try (Channel channel = connection.connection().createChannel()) {
            channel.confirmSelect();
            channel.basicPublish("", "jobs", new AMQP.BasicProperties.Builder().userId(userId)
                    .messageId(UUID.randomUUID().toString()).headers(headers).deliveryMode(2).build(), body);
            channel.waitForConfirmsOrDie(10_000);
        }
    }

    private static GetResponse deadLetter() throws Exception {
        GetResponse letter = admin.basicGet(DEAD, true);
        assertThat(letter).as("a dead letter in " + DEAD).isNotNull();
        return letter;
    }

    /** The real source, recording each delivery's ID, count and authenticated publisher. */
    private static final class RecordingSource implements DeliverySource {
        final List<String> ids = new ArrayList<>();
        final List<Long> counts = new ArrayList<>();
        final List<String> publishers = new ArrayList<>();
        private final DeliverySource real;

        RecordingSource(DeliverySource real) {
            this.real = real;
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
            List<Delivery> deliveries = real.receive(records);
            for (Delivery delivery : deliveries) {
                ids.add(delivery.id());
                counts.add(delivery.deliveryCount());
                publishers.add(delivery.authenticatedPublisher().orElse("none"));
            }
            return deliveries;
        }
    }
}
