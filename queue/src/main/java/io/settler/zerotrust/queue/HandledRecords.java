package io.settler.zerotrust.queue;

import java.time.Instant;
import java.util.List;

/**
 * What a consumer group recorded as finished (handled or dead-lettered), kept by
 * {@link QueueConsumer} in the replay guard's store before it acknowledges a delivery. A
 * {@link DeliverySource} whose broker can lose deliveries (Redis: an append-only file reloaded
 * without them) reads it to tell a lost delivery from a finished one; others ignore it.
 */
public interface HandledRecords {

    /**
     * For each of {@code ids} of {@code source}, in order, whether {@code group} recorded it finished
     * (one round trip).
     *
     * @throws QueueException {@link QueueException.Reason#REPLAY_CHECK_FAILED} (audited) if the
     *     records cannot be read
     */
    List<Boolean> finished(String group, String source, List<String> ids);

    /**
     * Takes message {@code id} of {@code source}, one the broker lost, for this worker of the group
     * until {@code until}, so of several workers that find it one runs it.
     *
     * @return whether this worker took it
     * @throws QueueException {@link QueueException.Reason#REPLAY_CHECK_FAILED} (audited) if the
     *     records cannot be written
     */
    boolean claimLost(String source, String id, Instant until);
}
