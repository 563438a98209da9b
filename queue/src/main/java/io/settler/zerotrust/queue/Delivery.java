package io.settler.zerotrust.queue;

import java.time.Instant;
import java.util.Optional;

/**
 * One delivery of a message to a worker, from a {@link DeliverySource}. {@link QueueConsumer}
 * settles each exactly one way: {@link #acknowledge()} after the handler returned (or when the
 * group already finished the message), {@link #deadLetter} then {@link #acknowledge()} when it was
 * refused, or {@link #leaveForRedelivery()} when the handler failed. Before it acknowledges, the
 * consumer records that its group finished the message, so a delivery repeated after a lost
 * acknowledgement is acknowledged again, never run twice.
 */
public interface Delivery {

    /** Where the message was read (Redis: the publisher's stream); the {@code stream} field of audit events. */
    String source();

    /**
     * The message's ID within {@link #source()}, the same on every delivery of it: assigned by the
     * broker (Redis: the entry ID), or at least by no one but the authenticated publisher (RabbitMQ:
     * {@code <user-id> <message-id>}), never one an attacker could copy with the envelope. The replay
     * guard lets a redelivery of this ID pass; the consumer's lease on it lets two deliveries with
     * this ID at the same time run the handler once. The {@code entry} field of audit events.
     */
    String id();

    /**
     * The envelope carried.
     *
     * @throws QueueException {@link QueueException.Reason#MALFORMED} if the message is not one
     */
    Envelope envelope();

    /**
     * How many times the broker delivered this message, this delivery included (at least 1): Redis's
     * pending-list count, RabbitMQ's {@code x-delivery-count} plus one.
     */
    long deliveryCount();

    /**
     * The publisher as the broker authenticated it, a SPIFFE ID, if the broker does: RabbitMQ's
     * validated {@code user-id}; on Redis the owner of the stream (its ACL lets no one else write
     * there). The consumer refuses a message whose token's issuer is another publisher
     * ({@link QueueException.Reason#WRONG_PUBLISHER}).
     */
    Optional<String> authenticatedPublisher();

    /**
     * When the broker took the message, if it records that (Redis: the time in the entry ID, at
     * most {@code maxFutureSkew} ahead). The group's record that it finished the message is kept
     * 30 minutes from then, or from now if later.
     */
    Optional<Instant> brokerTime();

    /**
     * Refuses, before verification, a delivery the transport itself finds unusable (Redis: an entry
     * ID far in the future, {@link QueueException.Reason#POISONED}, audited as
     * {@code queue.stream_poisoned}). Nothing by default.
     *
     * @throws QueueException a rejection: the consumer dead-letters the delivery
     */
    default void checkUsable() {
    }

    /** Tells the broker this worker is done with the message: it is never delivered to the group again. */
    void acknowledge();

    /**
     * Writes the message to the queue's dead letters with {@code reason} and {@code detail} (and the
     * envelope when {@code keepMessage}, so an operator can replay it), durably, before returning;
     * the consumer then records the message finished and calls {@link #acknowledge()}. A crash in
     * between gives a second dead letter, never none. A broker that dead-letters on a reject
     * (RabbitMQ) may settle here and ignore the acknowledgement.
     */
    void deadLetter(QueueException.Reason reason, String detail, boolean keepMessage);

    /**
     * The handler failed: the message must be delivered again (counted by the broker) to this or
     * another worker of the group. Redis: it stays pending and is reclaimed after
     * {@code claimAfter}; RabbitMQ: a {@code basic.nack} with requeue.
     */
    void leaveForRedelivery();

    /**
     * Another worker holds the group's lease on this message (it is running it, or died less than a
     * lease ago): keep the delivery for another look later, without counting a delivery where the
     * transport can. By default {@link #leaveForRedelivery()}: Redis reclaims it after
     * {@code claimAfter}. RabbitMQ, which would hand a requeued message straight back and count each
     * return towards the queue's {@code delivery-limit}, keeps it unacknowledged on its channel and
     * offers it again a second later.
     */
    default void defer() {
        leaveForRedelivery();
    }
}
