/**
 * A job queue in which every message carries a one-time, scoped service token that workers verify
 * before the handler sees anything. {@link io.settler.zerotrust.queue.Envelope},
 * {@link io.settler.zerotrust.queue.EnvelopeSigner}, {@link io.settler.zerotrust.queue.EnvelopeVerifier},
 * {@link io.settler.zerotrust.queue.QueuePublisher} and {@link io.settler.zerotrust.queue.QueueConsumer}
 * are transport-neutral; the broker is a transport behind {@link io.settler.zerotrust.queue.EnvelopeSender},
 * {@link io.settler.zerotrust.queue.DeliverySource} and {@link io.settler.zerotrust.queue.Delivery}, with
 * Redis Streams in {@link io.settler.zerotrust.queue.RedisStreamsTransport}.
 */
@NullMarked
package io.settler.zerotrust.queue;

import org.jspecify.annotations.NullMarked;
