package io.settler.zerotrust.examples;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.settler.zerotrust.credentials.CredentialSource;
import io.settler.zerotrust.credentials.TlsIdentity;
import io.settler.zerotrust.credentials.TrustBundle;
import io.settler.zerotrust.examples.api.ApiServer;
import io.settler.zerotrust.examples.webhook.WebhookReceiver;
import io.settler.zerotrust.examples.webhook.WebhookService;
import io.settler.zerotrust.examples.worker.JobWorker;
import io.settler.zerotrust.pki.IssuedCertificate;
import io.settler.zerotrust.queue.rabbitmq.RabbitMqBrokerConfig;
import io.settler.zerotrust.queue.rabbitmq.RabbitMqConnection;
import io.settler.zerotrust.queue.rabbitmq.RabbitMqConnections;
import io.settler.zerotrust.queue.rabbitmq.RabbitMqTransport;
import io.settler.zerotrust.redis.RedisAcl;
import io.settler.zerotrust.testkit.LocalRabbitMq;
import io.settler.zerotrust.tls.MtlsContext;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The API server and the job worker on RabbitMQ instead of Redis Streams, with one deployment setting
 * ({@code queue.transport=rabbitmq} and where the broker is) and no other change: a testkit RabbitMQ node
 * (TLS 1.3 only, client certificates from the zone's CA, login by certificate with SASL EXTERNAL), with
 * PostgreSQL and Redis (the cache and the replay guard) of a {@link LocalZone}. An order the gateway
 * creates becomes a signed job on the broker's quorum queue and the worker handles it once.
 */
class RabbitMqJobsIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final String VHOST = "zone";
    /** The setup user that declares the queue (RabbitMqTransport.declare), as an operator would. */
    private static final String OPERATOR = "queue-setup";

    @TempDir
    static Path directory;
    static LocalZone zone;
    static LocalRabbitMq rabbit;
    static WebhookReceiver receiver;
    static WebhookService webhook;
    static ApiServer api;
    static JobWorker worker;
    static Deployment deployment;

    @BeforeAll
    static void start() throws IOException {
        zone = LocalZone.start(directory, line -> { });
        Deployment zoneDeployment = zone.deployment();
        // The broker's users, permissions and topology rendered from the deployment's policy, as zt render does.
        rabbit = LocalRabbitMq.builder(zone.certificateAuthority()).definitions(RabbitMqBrokerConfig
                .builder(zoneDeployment.policy()).virtualHost(VHOST).operator(OPERATOR).build().definitionsJson())
                .start();
        try (RabbitMqConnection operator = operatorConnections().connect(OPERATOR)) {
            RabbitMqTransport.declare(operator, LocalZone.QUEUE, RabbitMqBrokerConfig.DEFAULT_DELIVERY_LIMIT);
        }

        // The one setting that moves the services to RabbitMQ, and where the broker is.
        deployment = zoneDeployment.withEndpoint(Deployment.QUEUE_TRANSPORT, "rabbitmq")
                .withEndpoint("rabbitmq.host", rabbit.host())
                .withEndpoint("rabbitmq.port", Integer.toString(rabbit.tlsPort()))
                .withEndpoint(Deployment.RABBITMQ_VHOST, VHOST);
        receiver = WebhookReceiver.start(deployment);
        deployment = deployment.withEndpoint("receiver.url", receiver.url());
        webhook = WebhookService.start(deployment);
        deployment = deployment.withEndpoint("webhook.port", Integer.toString(webhook.port()));
        api = ApiServer.start(deployment);
        deployment = deployment.withEndpoint(ApiServer.PORT_ENDPOINT, Integer.toString(api.port()));
        worker = JobWorker.start(deployment);
    }

    @AfterAll
    static void stop() throws Exception {
        for (AutoCloseable running : new AutoCloseable[] {worker, api, webhook, receiver, rabbit, zone}) {
            if (running != null) {
                running.close();
            }
        }
    }

    @Test
    void anOrderBecomesAJobOnRabbitMqThatTheWorkerHandlesOnce() throws Exception {
        assertThat(deployment.queueTransport()).isEqualTo(QueueTransport.RABBITMQ);
        String id;
        try (Gateway gateway = new Gateway(deployment)) {
            id = gateway.createOrder("acme", "{\"item\":\"a crate\"}");
        }
        long orderId = Long.parseLong(id);

        await(() -> worker.handled() == 1, "the worker handles the order's job");
        await(() -> deliveriesOf(orderId) == 1, "the receiver gets the webhook");
        await(() -> messages(LocalZone.QUEUE) == 0, "the job is acknowledged (nothing ready or unacknowledged)");
        assertThat(messages(RabbitMqTransport.deadLetterQueue(LocalZone.QUEUE))).as("dead letters").isZero();

        assertThat(zone.postgres().executeAsSuperuser(LocalZone.DATABASE,
                "select tenant_id || '|' || result || '|' || (notified_at is not null) from job_results"
                        + " where order_id = " + orderId).strip()).isEqualTo("acme|processed|true");
        assertThat(worker.handled()).as("handled once").isEqualTo(1);
        assertThat(deliveriesOf(orderId)).as("one webhook").isEqualTo(1);
        assertThat(zone.redis().executeAsAdmin("XLEN", RedisAcl.streamKey(LocalZone.QUEUE, ApiServer.SERVICE)).strip())
                .as("nothing went through the Redis stream").isEqualTo("0");
        assertThat(zone.postgres().executeAsSuperuser(LocalZone.DATABASE,
                "select count(*) from outbox where published_at is null").strip()).as("the outbox is drained")
                .isEqualTo("0");
        // Both services logged in by certificate over TLS 1.3: the broker's own view of its connections.
        assertThat(rabbit.rabbitmqctl("list_connections", "-p", VHOST, "user", "auth_mechanism", "ssl_protocol"))
                .contains(deployment.identity(ApiServer.SERVICE) + "\tEXTERNAL\ttlsv1.3",
                        deployment.identity(JobWorker.SERVICE) + "\tEXTERNAL\ttlsv1.3");
    }

    /** The messages of a queue of the virtual host, ready and unacknowledged, as the broker counts them. */
    private static long messages(String queue) {
        return rabbit.rabbitmqctl("list_queues", "-p", VHOST, "name", "messages").lines()
                .map(line -> line.strip().split("\t"))
                .filter(columns -> columns.length == 2 && columns[0].equals(queue))
                .mapToLong(columns -> Long.parseLong(columns[1])).findFirst()
                .orElseThrow(() -> new AssertionError("no queue " + queue + " in " + VHOST));
    }

    private static long deliveriesOf(long orderId) {
        return receiver.deliveries().stream().map(RabbitMqJobsIT::parse)
                .filter(json -> json.path("orderId").asLong() == orderId).count();
    }

    private static JsonNode parse(String json) {
        try {
            return JSON.readTree(json);
        } catch (IOException e) {
            throw new UncheckedIOException("the receiver holds a delivery that is not JSON: " + json, e);
        }
    }

    private static RabbitMqConnections operatorConnections() {
        IssuedCertificate certificate = rabbit.clientCertificate(OPERATOR);
        CredentialSource credentials = CredentialSource.fixed(TlsIdentity.of(certificate.privateKey(),
                certificate.chain()), TrustBundle.of(List.of(zone.certificateAuthority().rootCertificate())));
        return RabbitMqConnections.builder(MtlsContext.client(credentials).build()).host(rabbit.host())
                .port(rabbit.tlsPort()).virtualHost(VHOST).build();
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        Instant deadline = Instant.now().plus(WAIT);
        while (!condition.getAsBoolean()) {
            if (Instant.now().isAfter(deadline)) {
                throw new AssertionError("within " + WAIT + ": " + what);
            }
            Thread.sleep(50);
        }
    }
}
