package io.settler.zerotrust.queue.rabbitmq;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.ShutdownSignalException;
import io.settler.zerotrust.credentials.CredentialSource;
import io.settler.zerotrust.credentials.TlsIdentity;
import io.settler.zerotrust.credentials.TrustBundle;
import io.settler.zerotrust.pki.DevCertificateAuthority;
import io.settler.zerotrust.pki.IssuedCertificate;
import io.settler.zerotrust.policy.Policy;
import io.settler.zerotrust.queue.Delivery;
import io.settler.zerotrust.queue.DeliverySource;
import io.settler.zerotrust.queue.EnvelopeSender;
import io.settler.zerotrust.queue.EnvelopeSigner;
import io.settler.zerotrust.queue.EnvelopeVerifier;
import io.settler.zerotrust.queue.HandledRecords;
import io.settler.zerotrust.queue.QueuePublisher;
import io.settler.zerotrust.queue.rabbitmq.RabbitMqDrift.Kind;
import io.settler.zerotrust.testkit.LocalRabbitMq;
import io.settler.zerotrust.testkit.RecordingAuditLog;
import io.settler.zerotrust.tls.MtlsContext;
import io.settler.zerotrust.token.InMemoryReplayGuard;
import io.settler.zerotrust.token.KeySet;
import io.settler.zerotrust.token.ServiceTokens;
import io.settler.zerotrust.token.TokenAlgorithm;
import io.settler.zerotrust.token.TokenKey;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The broker configuration rendered from a policy, on one real RabbitMQ node started from the
 * rendered definitions and the rendered {@code rabbitmq.conf}: the broker itself refuses what the
 * policy does not allow (403 {@code ACCESS_REFUSED}), and the drift check finds what changes on it.
 */
class RabbitMqBrokerConfigTest {

    private static final String TRUST_DOMAIN = "broker.test";
    private static final String API = "spiffe://broker.test/api";
    private static final String MAILER = "spiffe://broker.test/mailer";
    private static final String OPERATOR = "spiffe://broker.test/queue-setup";
    /** api publishes jobs, billing publishes mail (never jobs), worker consumes jobs, mailer consumes mail. */
    private static final Policy POLICY = Policy.builder(TRUST_DOMAIN)
            .service("api", api -> api.scopes("queue:jobs:publish"))
            .service("billing", billing -> billing.scopes("queue:mail:publish"))
            .service("worker", worker -> worker.scopes("queue:jobs:consume"))
            .service("mailer", mailer -> mailer.scopes("queue:mail:consume"))
            .service("web", web -> web.scopes("orders:read"))
            .build();
    private static final RabbitMqBrokerConfig CONFIG = RabbitMqBrokerConfig.builder(POLICY).virtualHost("jobs")
            .deliveryLimit(10).build();
    private static final DevCertificateAuthority CA = DevCertificateAuthority.create(TRUST_DOMAIN);
    private static final RecordingAuditLog AUDIT = RecordingAuditLog.logging();
    private static final TokenKey API_KEY = TokenKey.generate(TokenAlgorithm.ED25519, "api-1").forIssuers(API);
    private static final TokenKey BILLING_KEY = TokenKey.generate(TokenAlgorithm.ED25519, "billing-1")
            .forIssuers("spiffe://broker.test/billing");
    private static final HandledRecords NO_RECORDS = new HandledRecords() {
        @Override
        public List<Boolean> finished(String group, String source, List<String> ids) {
            return ids.stream().map(id -> false).toList();
        }

        @Override
        public boolean claimLost(String source, String id, Instant until) {
            return false;
        }
    };

    private static LocalRabbitMq rabbit;
    private static RabbitMqConnection api;
    private static RabbitMqConnection billing;
    private static RabbitMqConnection worker;
    private static RabbitMqConnection mailer;
    private static RabbitMqConnection operator;

    @BeforeAll
    static void start() {
        rabbit = LocalRabbitMq.builder(CA).definitions(CONFIG.definitionsJson())
                .configuration(RabbitMqBrokerConfig::rabbitmqConf).start();
        api = connect("api");
        billing = connect("billing");
        worker = connect("worker");
        mailer = connect("mailer");
        operator = connect("queue-setup");
    }

    @AfterAll
    static void stop() throws Exception {
        for (AutoCloseable open : new AutoCloseable[] {api, billing, worker, mailer, operator, rabbit}) {
            if (open != null) {
                open.close();
            }
        }
    }

    @BeforeEach
    void clearAudit() {
        AUDIT.clear();
    }

    @Test
    void rendersOnePasswordlessUserPerQueueServiceWithNarrowPermissionsSortedAndStable() throws Exception {
        JsonNode definitions = new ObjectMapper().readTree(CONFIG.definitionsJson());

        assertThat(CONFIG.definitionsJson()).isEqualTo(RabbitMqBrokerConfig.builder(POLICY).virtualHost("jobs")
                .deliveryLimit(10).build().definitionsJson());
        assertThat(CONFIG.users()).containsExactly(API, "spiffe://broker.test/billing", MAILER, OPERATOR,
                "spiffe://broker.test/worker");
        assertThat(definitions.get("users")).allSatisfy(user -> {
            assertThat(user.get("password_hash").asText()).as("no password: EXTERNAL only").isEmpty();
            assertThat(user.get("tags")).as("no administrator, no management").isEmpty();
        });
        assertThat(CONFIG.permissions()).containsEntry(API, new RabbitMqBrokerConfig.Permission("^$",
                "^zt\\.publish\\.jobs$", "^$"))
                .containsEntry("spiffe://broker.test/worker", new RabbitMqBrokerConfig.Permission("^$",
                        "^zt\\.dead-letter\\.jobs$", "^jobs$"))
                .containsEntry(OPERATOR, new RabbitMqBrokerConfig.Permission(
                        "^(jobs|jobs\\.dead-letter|mail|mail\\.dead-letter|zt\\.dead-letter\\.jobs"
                                + "|zt\\.dead-letter\\.mail|zt\\.publish\\.jobs|zt\\.publish\\.mail)$",
                        "^(jobs|jobs\\.dead-letter|mail|mail\\.dead-letter)$",
                        "^(jobs\\.dead-letter|mail\\.dead-letter|zt\\.dead-letter\\.jobs|zt\\.dead-letter\\.mail"
                                + "|zt\\.publish\\.jobs|zt\\.publish\\.mail)$"));
        assertThat(definitions.get("topic_permissions")).isEmpty();
        assertThat(definitions.get("vhosts")).singleElement().satisfies(vhost -> assertThat(vhost.get("name")
                .asText()).isEqualTo("jobs"));
        assertThat(rabbit.rabbitmqctl("list_users")).doesNotContain("guest");
        assertThat(rabbit.rabbitmqctl("list_vhosts")).contains("jobs").doesNotContain("/");
    }

    @Test
    void renderedListenerIsTls13OnlyWithExternalLoginFromTheUriSan() {
        String conf = RabbitMqBrokerConfig.rabbitmqConf("5671", Path.of("ca.crt"), Path.of("s.crt"),
                Path.of("s.key"), Path.of("definitions.json"));

        assertThat(conf).contains("listeners.tcp = none", "listeners.ssl.default = 5671",
                "ssl_options.versions.1 = tlsv1.3", "ssl_options.verify = verify_peer",
                "ssl_options.fail_if_no_peer_cert = true", "auth_mechanisms.1 = EXTERNAL",
                "ssl_cert_login_from = subject_alternative_name", "ssl_cert_login_san_type = uri",
                "load_definitions = " + Path.of("definitions.json").toAbsolutePath());
        assertThat(conf).doesNotContain("versions.2", "auth_mechanisms.2");
        assertThat(rabbit.rabbitmqctl("list_connections", "-p", "jobs", "user", "auth_mechanism", "ssl_protocol"))
                .contains(API + "\tEXTERNAL\ttlsv1.3", OPERATOR + "\tEXTERNAL\ttlsv1.3");
    }

    @Test
    void anAllowedPublisherPublishesThroughItsExchangeAndTheWorkerReceivesIt() {
        RabbitMqTransport.declare(operator, "jobs", 10); // the setup step agrees with the rendered queues
        String id = QueuePublisher.of(sender(api, apiSigner()), apiSigner()).publish("resize 42".getBytes(UTF_8));

        List<Delivery> deliveries = RabbitMqTransport.source(worker, verifier()).auditLog(AUDIT).build()
                .receive(NO_RECORDS);

        assertThat(deliveries).singleElement().satisfies(delivery -> {
            assertThat(delivery.id()).isEqualTo(id);
            assertThat(delivery.authenticatedPublisher()).contains(API);
            assertThat(delivery.envelope().payload()).isEqualTo("resize 42".getBytes(UTF_8));
            delivery.acknowledge();
        });
        assertThat(id).startsWith(API + " ");
    }

    @Test
    void refusesPublishByAServiceThePolicyDoesNotLetPublishToTheQueue() {
        // billing may publish to mail only: the broker refuses its write on jobs' exchange.
        EnvelopeSigner mail = EnvelopeSigner.builder(ServiceTokens.builder().identity("spiffe://broker.test/billing")
                .signingKey(BILLING_KEY).policy(POLICY).build(), "mail").build();
        EnvelopeSender wrongQueue = RabbitMqTransport.sender(billing, mail)
                .exchange(RabbitMqTransport.publishExchange("jobs"), "jobs").auditLog(AUDIT).build();

        assertThatThrownBy(() -> QueuePublisher.of(wrongQueue, mail).publish("job".getBytes(UTF_8)))
                .isInstanceOfSatisfying(RabbitMqException.class, e -> {
                    assertThat(e.reason()).isEqualTo(RabbitMqException.Reason.CHANNEL_FAILED);
                    assertThat(e.getMessage()).contains("ACCESS_REFUSED", "403", "zt.publish.jobs");
                });
        assertThat(AUDIT.single(RabbitMqAudit.PUBLISH_REFUSED).fields())
                .containsEntry("reason", "CHANNEL_FAILED").containsEntry("destination", "zt.publish.jobs/jobs");
    }

    @Test
    void refusesAWorkerPublishingAJobIntoTheQueue() {
        assertThat(rawPublish(worker, RabbitMqTransport.publishExchange("jobs"), "jobs"))
                .contains("ACCESS_REFUSED", "access to exchange 'zt.publish.jobs'");
        assertThat(rawPublish(worker, "", "jobs")).as("no write on the default exchange either")
                .contains("ACCESS_REFUSED", "access to exchange 'amq.default'");
        assertThat(rawPublish(api, "", "jobs.dead-letter")).as("nor a publisher into the dead letters")
                .contains("ACCESS_REFUSED", "amq.default");
    }

    @Test
    void refusesAConsumerReadingAnotherGroupsQueue() {
        DeliverySource jobs = RabbitMqTransport.source(mailer, verifier()).auditLog(AUDIT).build();

        assertThatThrownBy(() -> jobs.receive(NO_RECORDS)).isInstanceOfSatisfying(RabbitMqException.class,
                e -> assertThat(e.getMessage()).contains("ACCESS_REFUSED", MAILER));

        assertThat(AUDIT.single(RabbitMqAudit.RECEIVE_FAILED).fields()).containsEntry("group", "jobs");
        assertThatThrownBy(() -> {
            try (Channel channel = mailer.connection().createChannel()) {
                channel.basicGet("jobs", false);
            }
        }).hasStackTraceContaining("ACCESS_REFUSED").hasStackTraceContaining("access to queue 'jobs'");
    }

    @Test
    void driftIsEmptyInSyncAndListsUsersAndPermissionsChangedLive() {
        assertThat(CONFIG.drift(rabbit.exportDefinitions()).findings()).isEmpty();
        try {
            rabbit.rabbitmqctl("add_user", "intruder", UUID.randomUUID().toString());
            rabbit.rabbitmqctl("set_permissions", "-p", "jobs", API, ".*", ".*", ".*");
            rabbit.rabbitmqctl("delete_user", MAILER);
            rabbit.rabbitmqctl("add_vhost", "other");

            RabbitMqDrift drift = CONFIG.drift(rabbit.exportDefinitions());

            assertThat(drift.inSync()).isFalse();
            assertThat(drift.findings(Kind.UNEXPECTED_USER)).singleElement()
                    .satisfies(finding -> assertThat(finding.subject()).isEqualTo("user intruder"));
            assertThat(drift.findings(Kind.MISSING_USER)).singleElement()
                    .satisfies(finding -> assertThat(finding.subject()).isEqualTo("user " + MAILER));
            assertThat(drift.findings(Kind.PERMISSION_DIFFERS)).singleElement().satisfies(finding -> {
                assertThat(finding.subject()).isEqualTo("permission of " + API + " in jobs");
                assertThat(finding.detail()).contains("live configure '.*'", "zt\\.publish\\.jobs");
            });
            assertThat(drift.findings(Kind.MISSING_PERMISSION)).hasSize(1);
            assertThat(drift.findings(Kind.UNEXPECTED_VHOST)).singleElement()
                    .satisfies(finding -> assertThat(finding.subject()).isEqualTo("virtual host other"));
            assertThat(CONFIG.drift(rabbit.exportDefinitions(), "intruder").findings(Kind.UNEXPECTED_USER))
                    .as("an ignored user").isEmpty();
        } finally {
            rabbit.rabbitmqctl("delete_user", "intruder");
            rabbit.rabbitmqctl("delete_vhost", "other");
            rabbit.importDefinitions(CONFIG.definitionsJson());
            mailer = connect("mailer"); // the broker closed its connection with its user
        }
        assertThat(CONFIG.drift(rabbit.exportDefinitions()).findings()).as("restored").isEmpty();
    }

    @Test
    void driftFindsABindingThatCopiesJobsAndATopicPermission() {
        try {
            rabbit.rabbitmqctl("set_topic_permissions", "-p", "jobs", API, "amq.topic", ".*", ".*");
            try (Channel channel = operator.connection().createChannel()) {
                channel.queueBind("jobs.dead-letter", RabbitMqTransport.publishExchange("jobs"), "jobs");
            } catch (Exception e) {
                throw new AssertionError(e);
            }

            RabbitMqDrift drift = CONFIG.drift(rabbit.exportDefinitions());

            assertThat(drift.findings(Kind.UNEXPECTED_TOPOLOGY)).singleElement().satisfies(finding -> assertThat(
                    finding.subject()).isEqualTo("binding zt.publish.jobs -> queue jobs.dead-letter (routing key"
                    + " 'jobs', arguments {})"));
            assertThat(drift.findings(Kind.UNEXPECTED_TOPIC_PERMISSION)).hasSize(1);
        } finally {
            rabbit.rabbitmqctl("clear_topic_permissions", "-p", "jobs", API);
            try (Channel channel = operator.connection().createChannel()) {
                channel.queueUnbind("jobs.dead-letter", RabbitMqTransport.publishExchange("jobs"), "jobs");
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        }
        assertThat(CONFIG.drift(rabbit.exportDefinitions()).inSync()).isTrue();
    }

    @Test
    void theLiveListenerProbeFindsNothingOnTheRenderedListener() {
        RabbitMqDrift drift = CONFIG.probeListener(credentials(rabbit.clientCertificate("queue-setup")),
                rabbit.host(), rabbit.tlsPort(), Optional.empty());

        assertThat(drift.findings()).isEmpty();
    }

    @Test
    void refusesToProbeWithACertificateFromAnotherCa() {
        IssuedCertificate stranger = DevCertificateAuthority.create(TRUST_DOMAIN).leaf("queue-setup").client().issue();
        CredentialSource foreign = CredentialSource.fixed(TlsIdentity.of(stranger.privateKey(), stranger.chain()),
                TrustBundle.of(List.of(CA.rootCertificate())));

        RabbitMqBrokerConfig audited = RabbitMqBrokerConfig.builder(POLICY).virtualHost("jobs").deliveryLimit(10)
                .auditLog(AUDIT).build();

        assertThatThrownBy(() -> audited.probeListener(foreign, rabbit.host(), rabbit.tlsPort(), Optional.empty()))
                .isInstanceOfSatisfying(RabbitMqException.class, e -> assertThat(e.reason())
                        .isEqualTo(RabbitMqException.Reason.CONNECTION_FAILED));
        assertThat(AUDIT.single(RabbitMqAudit.CONNECTION_REFUSED).fields()).containsEntry("identity", OPERATOR);
    }

    @Test
    void refusesAnOperatorThatIsAServiceOfThePolicyAndAPolicyWithoutQueues() {
        assertThatThrownBy(() -> RabbitMqBrokerConfig.builder(POLICY).operator("worker").build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("operator");
        assertThatThrownBy(() -> RabbitMqBrokerConfig.builder(Policy.builder(TRUST_DOMAIN)
                .service("web", web -> web.scopes("orders:read")).build()).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("queue:<name>:publish");
        assertThatThrownBy(() -> CONFIG.drift("{\"not\": \"definitions\"}"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("export_definitions");
    }

    /** What a raw publish with confirms ends in: the reason the broker closed the channel. */
    private static String rawPublish(RabbitMqConnection connection, String exchange, String routingKey) {
        try {
            Channel channel = connection.connection().createChannel();
            channel.confirmSelect();
            channel.basicPublish(exchange, routingKey, new AMQP.BasicProperties.Builder()
                    .userId(connection.identity()).messageId("m").build(), "job".getBytes(UTF_8));
            channel.waitForConfirmsOrDie(10_000);
            channel.close();
            return "published";
        } catch (ShutdownSignalException e) {
            return e.getMessage();
        } catch (Exception e) {
            return e.toString();
        }
    }

    private static RabbitMqConnection connect(String service) {
        return RabbitMqConnections.builder(MtlsContext.client(credentials(rabbit.clientCertificate(service)))
                .auditLog(AUDIT).build()).host(rabbit.host()).port(rabbit.tlsPort()).virtualHost("jobs")
                .auditLog(AUDIT).build().connect(service);
    }

    private static CredentialSource credentials(IssuedCertificate certificate) {
        return CredentialSource.fixed(TlsIdentity.of(certificate.privateKey(), certificate.chain()),
                TrustBundle.of(List.of(CA.rootCertificate())));
    }

    private static EnvelopeSigner apiSigner() {
        return EnvelopeSigner.builder(ServiceTokens.builder().identity(API).signingKey(API_KEY).policy(POLICY)
                .build(), "jobs").build();
    }

    private static EnvelopeSender sender(RabbitMqConnection connection, EnvelopeSigner signer) {
        return RabbitMqTransport.sender(connection, signer).auditLog(AUDIT).build();
    }

    private static EnvelopeVerifier verifier() {
        ServiceTokens tokens = ServiceTokens.builder().identity("spiffe://broker.test/queue/jobs")
                .verificationKeys(KeySet.of(API_KEY.verifyOnly())).trustIssuers(API).auditLog(AUDIT).build();
        return EnvelopeVerifier.builder(tokens, "jobs").policy(POLICY).replayGuard(InMemoryReplayGuard.create(100))
                .auditLog(AUDIT).build();
    }
}
