package io.settler.zerotrust.examples;

import io.lettuce.core.api.StatefulRedisConnection;
import io.settler.zerotrust.audit.AuditLog;
import io.settler.zerotrust.credentials.CredentialSource;
import io.settler.zerotrust.queue.DeliverySource;
import io.settler.zerotrust.queue.EnvelopeSigner;
import io.settler.zerotrust.queue.EnvelopeVerifier;
import io.settler.zerotrust.queue.QueuePublisher;
import io.settler.zerotrust.queue.RedisStreamsTransport;
import io.settler.zerotrust.queue.rabbitmq.RabbitMqTransport;

/**
 * The job queue {@value LocalZone#QUEUE} on the transport the {@link Deployment} names
 * ({@link Deployment#queueTransport()}): the only place the example services differ between Redis
 * Streams and RabbitMQ. The api's {@link QueuePublisher} and the worker's {@link DeliverySource} come
 * from here; the signer, the verifier (its replay guard stays on Redis either way, shared by all
 * workers) and the handlers are the same on both.
 *
 * <pre>
 * Redis Streams   XADD to queue:{jobs}:&lt;publisher&gt; over the service's Redis connection (its ACL user);
 *                 the worker reads with consumer group {@value LocalZone#GROUP}
 * RabbitMQ        a connection of its own per service (TLS 1.3, login by certificate), publisher confirms
 *                 to the quorum queue {@value LocalZone#QUEUE}; the worker reads it with manual acks
 * </pre>
 */
public final class JobQueue {

    private JobQueue() {
    }

    /**
     * The publisher of {@code service}'s jobs, signed by {@code signer}.
     *
     * @param redis the service's Redis connection, which Redis Streams publishes on
     * @param credentials the service's certificate, which RabbitMQ logs it in by
     * @param resources takes what this opens (the RabbitMQ connection), to close it with the service
     */
    public static QueuePublisher publisher(Deployment deployment, String service, EnvelopeSigner signer,
            StatefulRedisConnection<String, String> redis, CredentialSource credentials, Resources resources) {
        AuditLog audit = deployment.auditLog();
        return switch (deployment.queueTransport()) {
            case REDIS -> QueuePublisher.builder(redis.sync(), signer).auditLog(audit).build();
            case RABBITMQ -> QueuePublisher.of(RabbitMqTransport.sender(
                    resources.add(deployment.rabbitMq(credentials).connect(service)), signer).auditLog(audit).build(),
                    signer);
        };
    }

    /**
     * The deliveries of one worker, {@code consumer}, for {@code verifier}'s queue.
     *
     * @param redis the worker's Redis connection, which Redis Streams reads on
     * @param credentials the worker's certificate, which RabbitMQ logs it in by
     * @param resources takes what this opens (the RabbitMQ connection), to close it with the worker
     */
    public static DeliverySource source(Deployment deployment, String consumer, EnvelopeVerifier verifier,
            StatefulRedisConnection<String, String> redis, CredentialSource credentials, Resources resources) {
        AuditLog audit = deployment.auditLog();
        return switch (deployment.queueTransport()) {
            case REDIS -> RedisStreamsTransport.source(redis.sync(), verifier).group(LocalZone.GROUP)
                    .consumer(consumer).auditLog(audit).build();
            case RABBITMQ -> RabbitMqTransport.source(resources.add(deployment.rabbitMq(credentials).connect(consumer)),
                    verifier).auditLog(audit).build();
        };
    }
}
