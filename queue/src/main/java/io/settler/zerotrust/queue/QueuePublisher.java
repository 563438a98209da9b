package io.settler.zerotrust.queue;

import io.lettuce.core.api.sync.RedisStreamCommands;
import io.settler.zerotrust.audit.AuditLog;
import java.util.Objects;

/**
 * Publishes to a queue: seals each payload with its {@link EnvelopeSigner} (a fresh one-time token)
 * and hands the envelope to an {@link EnvelopeSender}, the transport. The same publisher runs on
 * every transport; only its sender changes. On Redis Streams
 * ({@link #of(RedisStreamCommands, EnvelopeSigner)}) it writes to this service's own stream
 * {@code queue:{<queue>}:<service>} with {@code XADD ... NOMKSTREAM}; the stream and its group are
 * created by the setup step, {@link QueueConsumer#createGroup}. Thread-safe if the sender is
 * (Lettuce connections are).
 */
public final class QueuePublisher {

    private final EnvelopeSender sender;
    private final EnvelopeSigner signer;

    private QueuePublisher(EnvelopeSender sender, EnvelopeSigner signer) {
        this.sender = sender;
        this.signer = signer;
    }

    /**
     * A publisher sealing with {@code signer} and sending with {@code sender}, both for the same queue.
     *
     * @throws QueueException {@link QueueException.Reason#INVALID_CONFIGURATION} if their queues differ
     */
    public static QueuePublisher of(EnvelopeSender sender, EnvelopeSigner signer) {
        Objects.requireNonNull(sender, "sender");
        Objects.requireNonNull(signer, "signer");
        if (!sender.queue().equals(signer.queue())) {
            throw Queues.invalid("the sender writes to queue " + sender.queue() + " but the signer seals for "
                    + signer.queue() + "; use one queue for both");
        }
        return new QueuePublisher(sender, signer);
    }

    /**
     * On Redis Streams: a publisher writing with {@code redis} (a hardened connection of the
     * publisher's ACL user) to the stream named after the last path segment of the signer's SPIFFE ID.
     */
    public static QueuePublisher of(RedisStreamCommands<String, String> redis, EnvelopeSigner signer) {
        return builder(redis, signer).build();
    }

    /** On Redis Streams: a publisher writing to the stream of {@code service}, its name in the policy. */
    public static QueuePublisher of(RedisStreamCommands<String, String> redis, EnvelopeSigner signer, String service) {
        return builder(redis, signer).service(service).build();
    }

    /** On Redis Streams: starts a publisher writing with {@code redis} and sealing with {@code signer}. */
    public static Builder builder(RedisStreamCommands<String, String> redis, EnvelopeSigner signer) {
        return new Builder(redis, signer);
    }

    /** Where this publisher's messages go ({@link EnvelopeSender#destination()}; Redis: its stream). */
    public String destination() {
        return sender.destination();
    }

    /**
     * Seals and sends {@code payload}; returns once the broker accepted it.
     *
     * @return the broker's ID of the message (Redis: the stream entry ID)
     * @throws QueueException {@link QueueException.Reason#NO_STREAM} (audit {@code queue.stream_missing})
     *     if the destination does not exist: nothing was published
     */
    public String publish(byte[] payload) {
        return sender.send(signer.seal(payload));
    }

    @Override
    public String toString() {
        return "QueuePublisher[" + sender.destination() + "]";
    }

    /** Settings of a {@link QueuePublisher} on Redis Streams ({@link RedisStreamsTransport#sender}). */
    public static final class Builder {
        private final RedisStreamsTransport.SenderBuilder sender;
        private final EnvelopeSigner signer;

        private Builder(RedisStreamCommands<String, String> redis, EnvelopeSigner signer) {
            this.signer = Objects.requireNonNull(signer, "signer");
            this.sender = RedisStreamsTransport.sender(redis, signer);
        }

        /** The publisher's service name in the policy (default: the last path segment of the signer's SPIFFE ID). */
        public Builder service(String service) {
            sender.service(service);
            return this;
        }

        /** Where refused publishes are recorded (default SLF4J). */
        public Builder auditLog(AuditLog audit) {
            sender.auditLog(audit);
            return this;
        }

        /** The publisher. */
        public QueuePublisher build() {
            return of(sender.build(), signer);
        }
    }
}
