/**
 * A job queue on Redis Streams in which every message carries a one-time, scoped service token
 * that workers verify before the handler sees anything. {@link io.settler.zerotrust.queue.Envelope},
 * {@link io.settler.zerotrust.queue.EnvelopeSigner} and {@link io.settler.zerotrust.queue.EnvelopeVerifier}
 * are transport-neutral; the Redis publisher and consumer build on them.
 */
@NullMarked
package io.settler.zerotrust.queue;

import org.jspecify.annotations.NullMarked;
