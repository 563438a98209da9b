package io.settler.zerotrust.queue;

/**
 * The publishing side of a queue transport: carries sealed envelopes of one publisher to one queue
 * ({@link RedisStreamsTransport#sender}: the publisher's own stream). {@link QueuePublisher} seals,
 * the sender only carries, so every transport sends the same signed envelopes.
 *
 * <p>The contract every transport keeps:
 * <ul>
 *   <li>{@link #send} returns only once the broker took responsibility for the message (Redis:
 *       {@code XADD} replied; RabbitMQ: the publisher confirm arrived). A message whose {@code send}
 *       returned is delivered at least once, until it was handled or dead-lettered.</li>
 *   <li>It never creates what the setup step creates (a stream, a queue and its consumer group or
 *       bindings) and never trims or purges: a destination that is missing is a
 *       {@link QueueException.Reason#NO_STREAM} refusal, audited, with nothing sent.</li>
 *   <li>It carries the envelope unchanged ({@link Envelope#toFields()} or the payload bytes plus the
 *       token), and where the broker can authenticate the sender per message (RabbitMQ's validated
 *       {@code user-id}) it sets that too, so consumers can compare it with the token's issuer.</li>
 * </ul>
 * Implementations are thread-safe if their connection is.
 */
public interface EnvelopeSender {

    /** The queue's name. */
    String queue();

    /** Where this sender writes, for messages and audit events (Redis: the stream key). */
    String destination();

    /**
     * Sends {@code envelope}; returns once the broker accepted it.
     *
     * @return the broker's ID of the message (Redis: the stream entry ID)
     * @throws QueueException {@link QueueException.Reason#NO_STREAM} (audited) if the destination is
     *     missing: nothing was sent
     */
    String send(Envelope envelope);
}
