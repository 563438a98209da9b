package io.settler.zerotrust.examples.worker;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.lettuce.core.api.StatefulRedisConnection;
import io.settler.zerotrust.credentials.FileCredentialSource;
import io.settler.zerotrust.examples.Deployment;
import io.settler.zerotrust.examples.LocalZone;
import io.settler.zerotrust.examples.webhook.WebhookReceiver;
import io.settler.zerotrust.examples.webhook.WebhookService;
import io.settler.zerotrust.queue.EnvelopeSigner;
import io.settler.zerotrust.queue.QueuePublisher;
import io.settler.zerotrust.redis.HardenedRedis;
import io.settler.zerotrust.redis.RedisAcl;
import io.settler.zerotrust.token.KeySet;
import io.settler.zerotrust.token.ServiceTokens;
import io.settler.zerotrust.token.TokenAlgorithm;
import io.settler.zerotrust.token.TokenKey;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The job worker against a real {@link LocalZone} with the webhook service and receiver running:
 * the test publishes jobs as the api does (its own published token key, its Redis user), and the
 * worker runs exactly the genuine ones, once.
 */
class JobWorkerTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration WAIT = Duration.ofSeconds(20);

    @TempDir
    static Path directory;
    static LocalZone zone;
    static WebhookReceiver receiver;
    static WebhookService webhook;
    static JobWorker worker;
    static ServiceTokens api;
    static FileCredentialSource apiCredentials;
    static HardenedRedis apiRedis;
    static StatefulRedisConnection<String, String> apiConnection;
    static QueuePublisher publisher;

    @BeforeAll
    static void start() {
        zone = LocalZone.start(directory, line -> { });
        receiver = WebhookReceiver.start(zone.deployment());
        Deployment deployment = zone.deployment().withEndpoint("receiver.url", receiver.url());
        webhook = WebhookService.start(deployment);
        deployment = deployment.withEndpoint("webhook.port", Integer.toString(webhook.port()));

        // The api's side, as the api server does it.
        api = ServiceTokens.builder().identity(deployment.identity("api")).keys(deployment.newTokenKeys("api"))
                .policy(deployment.policy()).build();
        apiCredentials = deployment.credentials("api");
        apiRedis = HardenedRedis.builder()
                .host(deployment.endpoint("redis.host")).port(Integer.parseInt(deployment.endpoint("redis.port")))
                .user("api").password(deployment.redisPassword("api")).credentials(apiCredentials).build();
        apiConnection = apiRedis.connect();
        publisher = QueuePublisher.of(apiConnection.sync(), EnvelopeSigner.builder(api, LocalZone.QUEUE).build());

        worker = JobWorker.start(deployment);
    }

    @AfterAll
    static void stop() throws Exception {
        for (AutoCloseable running : new AutoCloseable[] {worker, apiConnection, apiRedis, apiCredentials, webhook,
                receiver, zone}) {
            if (running != null) {
                running.close();
            }
        }
    }

    @Test
    void handlesAJobPublishedByTheApi() throws Exception {
        long handled = worker.handled();

        publisher.publish(job("tenant-a", 101));

        await(() -> worker.handled() == handled + 1, "the worker handles the job");
        assertThat(jobResult(101)).isEqualTo("tenant-a|processed");
        await(() -> deliveriesOf(101) == 1, "the receiver gets the webhook");
        JsonNode delivered = delivery(101);
        assertThat(delivered.path("tenant").asText()).isEqualTo("tenant-a");
        assertThat(delivered.path("event").asText()).isEqualTo("order.processed");
    }

    @Test
    void deadLettersAnEnvelopeForgedWithAKeyTheApiNeverPublished() throws Exception {
        long handled = worker.handled();
        int deadLetters = deadLetters("FORGED");
        // Claims to be the api, signed with a key of its own: what an attacker holding the api's
        // Redis password (but not its signing key) could publish.
        ServiceTokens forger = ServiceTokens.builder().identity(zone.deployment().identity("api"))
                .keys(KeySet.builder().signingKey(TokenKey.generate(TokenAlgorithm.ED25519, "api-forged")).build())
                .build();
        QueuePublisher forged = QueuePublisher.of(apiConnection.sync(), EnvelopeSigner.builder(forger, LocalZone.QUEUE)
                .build());

        forged.publish(job("tenant-a", 201));

        await(() -> deadLetters("FORGED") == deadLetters + 1, "the forged envelope is dead-lettered");
        assertThat(worker.handled()).isEqualTo(handled);
        assertThat(jobResult(201)).isEmpty();
        assertThat(deliveriesOf(201)).isZero();
    }

    @Test
    void handlesAReplayedEnvelopeOnce() throws Exception {
        long handled = worker.handled();
        int replays = deadLetters("REPLAYED");
        Map<String, String> entry = EnvelopeSigner.builder(api, LocalZone.QUEUE).build()
                .seal(job("tenant-b", 301)).toFields();

        apiConnection.sync().xadd(publisher.destination(), entry);
        apiConnection.sync().xadd(publisher.destination(), entry); // the same signed entry again

        await(() -> deadLetters("REPLAYED") == replays + 1, "the copy is dead-lettered as a replay");
        await(() -> worker.handled() == handled + 1, "the original is handled");
        assertThat(jobResult(301)).isEqualTo("tenant-b|processed");
        assertThat(deliveriesOf(301)).isEqualTo(1);
    }

    @Test
    void handlesAnOrdersJobPublishedTwiceOnce() throws Exception {
        long handled = worker.handled();

        // What the api's outbox relay does when it dies after publishing and before recording it:
        // the same job again, in a new envelope (a new jti, so the replay guard cannot know it).
        publisher.publish(job("tenant-c", 401));
        publisher.publish(job("tenant-c", 401));
        publisher.publish(job("tenant-c", 402)); // behind both: once it is handled, so are they

        await(() -> deliveriesOf(402) == 1 && worker.handled() >= handled + 2, "the job behind the copies is handled");
        assertThat(worker.handled()).as("orders handled").isEqualTo(handled + 2);
        assertThat(jobResult(401)).isEqualTo("tenant-c|processed");
        assertThat(deliveriesOf(401)).isEqualTo(1);
    }

    private static byte[] job(String tenant, long orderId) {
        return JSON.createObjectNode().put("tenant", tenant).put("orderId", orderId).put("item", "book")
                .toString().getBytes(StandardCharsets.UTF_8);
    }

    /** The job_results row of the order as {@code tenant|result}, read as the superuser (RLS does not apply). */
    private static String jobResult(long orderId) {
        return zone.postgres().executeAsSuperuser(LocalZone.DATABASE,
                "select tenant_id || '|' || result from job_results where order_id = " + orderId);
    }

    private static long deliveriesOf(long orderId) {
        return receiver.deliveries().stream().map(JobWorkerTest::parse)
                .filter(json -> json.path("orderId").asLong() == orderId).count();
    }

    private static JsonNode delivery(long orderId) {
        return receiver.deliveries().stream().map(JobWorkerTest::parse)
                .filter(json -> json.path("orderId").asLong() == orderId).findFirst().orElseThrow();
    }

    private static JsonNode parse(String json) {
        try {
            return JSON.readTree(json);
        } catch (java.io.IOException e) {
            throw new AssertionError("the receiver holds a delivery that is not JSON: " + json, e);
        }
    }

    /** Dead-letter entries with this reason, read as the Redis administrator. */
    private static int deadLetters(String reason) {
        String entries = zone.redis().executeAsAdmin("XRANGE", RedisAcl.deadLetterKey(LocalZone.QUEUE), "-", "+");
        String[] lines = entries.split("\n");
        int count = 0;
        for (int i = 0; i + 1 < lines.length; i++) {
            if (lines[i].equals("reason") && lines[i + 1].equals(reason)) {
                count++;
            }
        }
        return count;
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
