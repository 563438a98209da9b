package io.settler.zerotrust.examples;

/**
 * Which broker carries the example's jobs, one setting of the {@link Deployment}
 * ({@value Deployment#QUEUE_TRANSPORT}); {@link JobQueue} wires the publisher and the worker's source
 * for it. The handlers, the signer and the verifier are the same on both.
 */
public enum QueueTransport {
    /** Redis Streams ({@code queue.transport=redis}, the default): the api's stream, group {@value LocalZone#GROUP}. */
    REDIS,
    /** RabbitMQ ({@code queue.transport=rabbitmq}): quorum queue {@value LocalZone#QUEUE}, login by certificate. */
    RABBITMQ
}
