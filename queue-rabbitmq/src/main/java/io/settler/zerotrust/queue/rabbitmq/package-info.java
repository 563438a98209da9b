/**
 * The queue on RabbitMQ: {@link io.settler.zerotrust.queue.rabbitmq.RabbitMqConnections} opens
 * certificate-authenticated TLS 1.3 connections, {@link io.settler.zerotrust.queue.rabbitmq.RabbitMqTransport}
 * builds the {@link io.settler.zerotrust.queue.EnvelopeSender} and
 * {@link io.settler.zerotrust.queue.DeliverySource} that {@code QueuePublisher} and {@code QueueConsumer} use.
 */
@NullMarked
package io.settler.zerotrust.queue.rabbitmq;

import org.jspecify.annotations.NullMarked;
