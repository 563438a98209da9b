package io.settler.zerotrust.queue;

import java.util.List;

/**
 * The consuming side of a queue transport: one worker of one consumer group of a queue
 * ({@link RedisStreamsTransport#source}). It hands {@link Delivery deliveries} to
 * {@link QueueConsumer}, which verifies, checks for replays, runs the handler and settles each
 * delivery the same way on every transport.
 *
 * <p>The contract every transport keeps:
 * <ul>
 *   <li><b>At-least-once.</b> A message stays with the broker until the consumer
 *       {@link Delivery#acknowledge() acknowledges} it; a delivery not acknowledged (handler failed,
 *       {@link Delivery#leaveForRedelivery()}, worker died, {@link QueueConsumer#poll()} threw) is
 *       delivered again later, possibly to another worker of the group.</li>
 *   <li><b>The broker counts deliveries</b> ({@link Delivery#deliveryCount()}: Redis's pending list,
 *       RabbitMQ's {@code x-delivery-count}); the consumer dead-letters a message delivered more than
 *       its {@code maxDeliveries} times. A broker that dead-letters by itself (a quorum queue's
 *       {@code delivery-limit}) may do so earlier.</li>
 *   <li><b>Stable IDs.</b> {@link Delivery#id()} names the message within
 *       {@link Delivery#source()} and stays the same on every delivery of it; the replay guard binds
 *       each token's jti to it, so a second message carrying the same token is {@code REPLAYED}. Only
 *       the broker, or the publisher it authenticated, may choose it (AMQP's {@code message-id} alone
 *       could be copied with the envelope); two deliveries of one ID at the same time, which that
 *       publisher can make, run the handler once: the consumer takes the group's lease on the ID
 *       first and leaves the other for redelivery.</li>
 *   <li><b>No blocking for long</b>: {@link #receive} returns what is there (at most a batch), so a
 *       polling loop can stop.</li>
 * </ul>
 * Not thread-safe unless an implementation says so: one thread per source, like the consumer.
 */
public interface DeliverySource {

    /** The queue's name. */
    String queue();

    /** The consumer group this worker belongs to: each group handles every message once. */
    String group();

    /**
     * One round: the deliveries due again (unacknowledged past the transport's timeout, or lost by
     * the broker), then new ones; at most a batch of each, without blocking for long. Transports that
     * must tell a delivery the broker lost from one the group finished ask {@code records}.
     *
     * @throws QueueException {@link QueueException.Reason#NO_GROUP} (audited) if the group is
     *     missing; {@link QueueException.Reason#REPLAY_CHECK_FAILED} from {@code records}
     */
    List<Delivery> receive(HandledRecords records);

    /**
     * {@link Delivery#acknowledge() Acknowledges} {@code deliveries} of this source, each of which the
     * consumer has finished (handled or dead-lettered, and recorded), in as few round trips as the
     * broker allows (Redis: one {@code XACK} per stream). If it throws, some may be acknowledged
     * and others not: those are delivered again, and the group's records settle them without running
     * the handler. By default one {@link Delivery#acknowledge()} after another.
     */
    default void acknowledge(List<Delivery> deliveries) {
        deliveries.forEach(Delivery::acknowledge);
    }
}
