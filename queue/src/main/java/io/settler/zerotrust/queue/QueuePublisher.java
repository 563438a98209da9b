package io.settler.zerotrust.queue;

import io.lettuce.core.api.sync.RedisStreamCommands;
import io.settler.zerotrust.identity.ServiceIdentity;
import io.settler.zerotrust.redis.RedisAcl;
import java.util.Objects;

/**
 * Publishes sealed messages to this service's own stream of a queue,
 * {@code queue:{<queue>}:<service>} ({@link RedisAcl#streamKey}), with a plain {@code XADD}: no
 * {@code MAXLEN}/{@code MINID} trimming, which could drop entries still pending. Thread-safe if
 * the commands are (Lettuce connections are).
 */
public final class QueuePublisher {

    private final RedisStreamCommands<String, String> redis;
    private final EnvelopeSigner signer;
    private final String stream;

    private QueuePublisher(RedisStreamCommands<String, String> redis, EnvelopeSigner signer, String service) {
        this.redis = Objects.requireNonNull(redis, "redis");
        this.signer = Objects.requireNonNull(signer, "signer");
        this.stream = RedisAcl.streamKey(signer.queue(), service);
    }

    /**
     * A publisher writing with {@code redis} (a hardened connection of the publisher's ACL user) to
     * the stream named after the last path segment of the signer's SPIFFE ID.
     */
    public static QueuePublisher of(RedisStreamCommands<String, String> redis, EnvelopeSigner signer) {
        return new QueuePublisher(redis, signer, ServiceIdentity.parse(signer.publisher()).serviceName());
    }

    /** A publisher writing to the stream of {@code service}, its name in the policy. */
    public static QueuePublisher of(RedisStreamCommands<String, String> redis, EnvelopeSigner signer, String service) {
        return new QueuePublisher(redis, signer, service);
    }

    /** The stream this publisher writes to. */
    public String stream() {
        return stream;
    }

    /**
     * Seals and appends {@code payload}; returns once Redis has accepted the entry.
     *
     * @return the stream entry ID
     */
    public String publish(byte[] payload) {
        return redis.xadd(stream, signer.seal(payload).toFields());
    }

    @Override
    public String toString() {
        return "QueuePublisher[" + stream + "]";
    }
}
