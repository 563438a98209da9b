package io.settler.zerotrust.examples.worker;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.lettuce.core.api.StatefulRedisConnection;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import io.settler.zerotrust.audit.AuditLog;
import io.settler.zerotrust.credentials.FileCredentialSource;
import io.settler.zerotrust.examples.Deployment;
import io.settler.zerotrust.examples.JobQueue;
import io.settler.zerotrust.examples.LocalZone;
import io.settler.zerotrust.examples.Resources;
import io.settler.zerotrust.identity.ServiceIdentity;
import io.settler.zerotrust.jdbc.PostgresMtlsDataSource;
import io.settler.zerotrust.jdbc.TenantScope;
import io.settler.zerotrust.netty.BearerTokens;
import io.settler.zerotrust.netty.MtlsHttpClient;
import io.settler.zerotrust.netty.NettyMtls;
import io.settler.zerotrust.queue.EnvelopeVerifier;
import io.settler.zerotrust.queue.QueueConsumer;
import io.settler.zerotrust.queue.VerifiedMessage;
import io.settler.zerotrust.redis.HardenedRedis;
import io.settler.zerotrust.redis.KeyNamespace;
import io.settler.zerotrust.redis.RedisReplayGuard;
import io.settler.zerotrust.tls.MtlsContext;
import io.settler.zerotrust.token.ServiceTokens;
import io.settler.zerotrust.token.TokenSource;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The job worker: takes the jobs the API server published on queue {@value LocalZone#QUEUE},
 * records each result in PostgreSQL and tells the webhook service.
 *
 * <ol>
 *   <li>Reads the queue with consumer group {@value LocalZone#GROUP} as consumer {@value #CONSUMER},
 *       connected to Redis as the ACL user {@value #SERVICE} (mTLS 1.3 plus its password); or, with
 *       {@code queue.transport=rabbitmq} in the deployment, RabbitMQ's quorum queue
 *       {@value LocalZone#QUEUE}, logged in by its certificate ({@link JobQueue}). Every
 *       entry is verified before anything runs: signed by the api (its published keys, pinned to
 *       its identity; the policy says who may publish), for this queue, with the payload it signed,
 *       and never seen before ({@link RedisReplayGuard} shared by all workers). Anything else is
 *       dead-lettered with its reason by the queue.</li>
 *   <li>Writes {@code job_results} for the payload's tenant inside a {@link TenantScope} (row-level
 *       security; role {@value #SERVICE}), {@code ON CONFLICT DO NOTHING}, so a redelivered job does
 *       not write twice. Idempotent by order id: the api publishes at least once (its outbox relay
 *       publishes a job again if it crashed before recording the publish; that copy is a new
 *       envelope, which the replay guard cannot recognise), so a job whose order was already
 *       notified ({@code notified_at} set) is acknowledged without running again.</li>
 *   <li>POSTs {@code {"tenant","orderId","event":"order.processed"}} to the webhook service at
 *       {@code webhook.host}/{@code webhook.port}, path {@code /send}, over mTLS (the server must
 *       prove the webhook identity) with a token for the webhook service, scope
 *       {@value #WEBHOOK_SCOPE}, bound to the certificate the worker presents on that connection.
 *       A reply other than 2xx fails the job: the queue redelivers it after a while and
 *       dead-letters it after too many failures. After a 2xx it sets {@code notified_at}; a crash
 *       just before that sends the webhook again (webhooks are at least once; a receiver
 *       deduplicates by order id).</li>
 * </ol>
 *
 * <pre>{@code
 * JobWorker worker = JobWorker.start(deployment);  // polls on its own thread
 * worker.handled();                                // jobs handled successfully so far
 * worker.close();
 * }</pre>
 *
 * <p>Its token signing key is generated at start and its public half published for the webhook
 * service ({@link Deployment#newTokenKeys}). {@link #close()} stops everything it started;
 * idempotent.
 */
public final class JobWorker implements AutoCloseable {

    /** The service's name in the policy: also its PostgreSQL role and Redis ACL user. */
    public static final String SERVICE = "worker";
    /** This worker's stable name in the consumer group. */
    public static final String CONSUMER = "worker-1";
    /** The scope of the worker's tokens for the webhook service. */
    public static final String WEBHOOK_SCOPE = "webhook:send";

    private static final Logger LOG = LoggerFactory.getLogger(JobWorker.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String PUBLISHER = "api";
    private static final String WEBHOOK = "webhook";
    private static final String WEBHOOK_PATH = "/send";
    private static final Duration IDLE_WAIT = Duration.ofMillis(100);
    private static final Duration ERROR_WAIT = Duration.ofSeconds(1);
    private static final Duration WEBHOOK_TIMEOUT = Duration.ofSeconds(15);
    private static final String INSERT_RESULT = "INSERT INTO job_results (order_id, tenant_id, result)"
            + " VALUES (?, ?, 'processed') ON CONFLICT (order_id) DO NOTHING";
    private static final String NOTIFIED = "SELECT notified_at IS NOT NULL FROM job_results WHERE order_id = ?";
    private static final String MARK_NOTIFIED = "UPDATE job_results SET notified_at = now() WHERE order_id = ?";

    private final Resources resources;
    private final AtomicLong handled = new AtomicLong();
    private final AtomicBoolean closed = new AtomicBoolean();
    private final String webhookHost;
    private final int webhookPort;
    private TenantScope tenants;
    private MtlsHttpClient webhook;
    private QueueConsumer consumer;
    private Thread poller;
    private volatile boolean running = true;

    private JobWorker(Deployment deployment, Resources resources) {
        this.resources = resources;
        InetSocketAddress webhookAddress = deployment.address(WEBHOOK);
        this.webhookHost = webhookAddress.getHostString();
        this.webhookPort = webhookAddress.getPort();
        connect(deployment);
    }

    /**
     * Connects to PostgreSQL and Redis as the worker, publishes its token keys and starts polling
     * on its own thread.
     *
     * @throws RuntimeException from whichever part refused to start (the message says which and
     *     why); what had started is closed
     */
    public static JobWorker start(Deployment deployment) {
        Objects.requireNonNull(deployment, "deployment");
        Resources resources = new Resources();
        JobWorker worker;
        try {
            worker = new JobWorker(deployment, resources);
        } catch (RuntimeException e) {
            resources.close(); // what had started; the poller had not
            throw e;
        }
        worker.poller.start();
        return worker;
    }

    /**
     * Runs the worker until Ctrl-C.
     *
     * @param args the deployment directory
     */
    public static void main(String[] args) {
        if (args.length != 1) {
            System.err.println("usage: JobWorker <deployment directory>");
            System.exit(2);
        }
        JobWorker worker = start(Deployment.at(Path.of(args[0])));
        Runtime.getRuntime().addShutdownHook(new Thread(worker::close, "job-worker-shutdown"));
        System.out.println("job worker polling queue " + LocalZone.QUEUE + "; Ctrl-C stops it");
    }

    /** How many orders were handled successfully (result written, webhook accepted), each once. */
    public long handled() {
        return handled.get();
    }

    /** Stops polling (waiting for a job in progress), then closes every connection; idempotent. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        running = false;
        if (poller != null && poller.isAlive()) {
            try {
                poller.join(WEBHOOK_TIMEOUT.plusSeconds(5).toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        resources.close();
    }

    @Override
    public String toString() {
        return "JobWorker[" + CONSUMER + ", handled " + handled + "]";
    }

    private void connect(Deployment deployment) {
        AuditLog audit = deployment.auditLog();
        FileCredentialSource credentials = open(deployment.credentials(SERVICE));

        PostgresMtlsDataSource database = open(deployment.postgres(SERVICE, credentials).maximumPoolSize(2).build());
        this.tenants = TenantScope.of(database);

        // Tokens to the webhook service: signed with a key made now, bound to our certificate.
        ServiceTokens ownTokens = ServiceTokens.builder()
                .identity(deployment.identity(SERVICE))
                .keys(deployment.newTokenKeys(SERVICE))
                .policy(deployment.policy())                        // mints only what the policy grants
                .auditLog(audit)
                .build();
        // The JDK provider reports the certificate each connection presented, which the binding needs.
        NettyMtls webhookTls = NettyMtls.builder(MtlsContext.client(credentials)
                        .expectedServer(deployment.identity(WEBHOOK)).auditLog(audit).build())
                .provider(NettyMtls.Provider.JDK).auditLog(audit).build();
        this.webhook = open(MtlsHttpClient.builder(webhookTls)
                .requestHeaders(BearerTokens.boundTo(TokenSource.builder(ownTokens).build(), credentials,
                        deployment.identity(WEBHOOK), WEBHOOK_SCOPE))
                .timeout(WEBHOOK_TIMEOUT)
                .build());

        HardenedRedis redis = open(deployment.redis(SERVICE, credentials).ioThreads(1).build());
        StatefulRedisConnection<String, String> connection = open(redis.connect());

        // The queue's envelopes: minted by the api for the queue's identity, checked here.
        ServiceTokens queueTokens = ServiceTokens.builder()
                .identity(ServiceIdentity.of(deployment.policy().trustDomain(), "queue/" + LocalZone.QUEUE))
                .verificationKeys(deployment.publishedKeysOf(PUBLISHER))
                .trustIssuers(deployment.identity(PUBLISHER))
                .auditLog(audit)
                .build();                                           // no replay guard here: the queue checks last
        EnvelopeVerifier verifier = EnvelopeVerifier.builder(queueTokens, LocalZone.QUEUE)
                .policy(deployment.policy())
                .replayGuard(RedisReplayGuard.builder(connection, KeyNamespace.of(SERVICE)) // pipelines a batch
                        .auditLog(audit).build())
                .auditLog(audit)
                .build();
        // Redis Streams or RabbitMQ, as the deployment's queue.transport says; the handler is the same.
        this.consumer = QueueConsumer.builder(JobQueue.source(deployment, CONSUMER, verifier, connection, credentials,
                        resources), verifier, this::handle)
                .auditLog(audit)
                .build();
        this.poller = new Thread(this::pollUntilClosed, "job-worker-" + CONSUMER);
    }

    private <T extends AutoCloseable> T open(T resource) {
        return resources.add(resource);
    }

    private void pollUntilClosed() {
        while (running) {
            try {
                if (consumer.poll() == 0) {
                    sleep(IDLE_WAIT);
                }
            } catch (RuntimeException e) {
                if (running) {
                    LOG.error("polling queue {} failed; retrying in {}: {}", LocalZone.QUEUE, ERROR_WAIT, e.toString());
                    sleep(ERROR_WAIT);
                }
            }
        }
    }

    private void sleep(Duration duration) {
        try {
            Thread.sleep(duration.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            running = false;
        }
    }

    /** Runs one verified job; throwing leaves it pending, to be redelivered. */
    private void handle(VerifiedMessage message) throws Exception {
        Job job = Job.parse(message.payload());
        boolean notified = tenants.call(job.tenant(), connection -> {
            try (PreparedStatement insert = connection.prepareStatement(INSERT_RESULT);
                 PreparedStatement select = connection.prepareStatement(NOTIFIED)) {
                insert.setLong(1, job.orderId());
                insert.setString(2, job.tenant());
                insert.executeUpdate();
                select.setLong(1, job.orderId());
                try (ResultSet row = select.executeQuery()) {
                    if (!row.next()) { // RLS: the order's result belongs to another tenant
                        throw new SQLException("order " + job.orderId() + " has a result of another tenant");
                    }
                    return row.getBoolean(1);
                }
            }
        });
        if (notified) {
            LOG.info("order {} of tenant {} was processed already; message {} is a second publish of its job",
                    job.orderId(), job.tenant(), message.jti());
            return;
        }
        ObjectNode event = JSON.createObjectNode()
                .put("tenant", job.tenant()).put("orderId", job.orderId()).put("event", "order.processed");
        DefaultFullHttpRequest request = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST,
                WEBHOOK_PATH, Unpooled.wrappedBuffer(JSON.writeValueAsBytes(event)));
        request.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON);
        MtlsHttpClient.Response response = webhook.send(webhookHost, webhookPort, request)
                .get(WEBHOOK_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        if (response.status() / 100 != 2) {
            throw new IllegalStateException("the webhook service answered " + response.status() + " for order "
                    + job.orderId() + " (message " + message.jti() + "); the job will be retried");
        }
        tenants.run(job.tenant(), connection -> {
            try (PreparedStatement mark = connection.prepareStatement(MARK_NOTIFIED)) {
                mark.setLong(1, job.orderId());
                mark.executeUpdate();
            }
        });
        handled.incrementAndGet();
        LOG.info("order {} of tenant {} processed (message {})", job.orderId(), job.tenant(), message.jti());
    }

    /** A job as the api publishes it: {@code {"tenant","orderId","item"}}. */
    private record Job(String tenant, long orderId) {
        static Job parse(byte[] payload) throws IOException {
            JsonNode json = JSON.readTree(payload);
            JsonNode tenant = json.path("tenant");
            JsonNode orderId = json.path("orderId");
            boolean idIsNumber = orderId.isIntegralNumber() && orderId.canConvertToLong();
            boolean idIsDigits = orderId.isTextual() && orderId.asText().matches("[0-9]{1,18}");
            if (!tenant.isTextual() || tenant.asText().isBlank() || !(idIsNumber || idIsDigits)) {
                throw new IllegalArgumentException("a job payload is {\"tenant\": text, \"orderId\": integer,"
                        + " \"item\": text}; this one is not");
            }
            return new Job(tenant.asText(), idIsNumber ? orderId.asLong() : Long.parseLong(orderId.asText()));
        }
    }
}
