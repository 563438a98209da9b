package io.settler.zerotrust.queue;

import io.lettuce.core.XAddArgs;
import io.lettuce.core.api.sync.RedisStreamCommands;
import io.settler.zerotrust.audit.AuditLog;
import io.settler.zerotrust.identity.ServiceIdentity;
import io.settler.zerotrust.redis.RedisAcl;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Publishes sealed messages to this service's own stream of a queue,
 * {@code queue:{<queue>}:<service>} ({@link RedisAcl#streamKey}), with {@code XADD ... NOMKSTREAM}:
 * only to a stream that exists, never re-creating one Redis lost (it would come back without its
 * consumer group, and its messages would wait unseen); and no {@code MAXLEN}/{@code MINID}
 * trimming, which could drop entries still pending. The stream and its group are created by the
 * setup step, {@link QueueConsumer#createGroup}. Thread-safe if the commands are (Lettuce
 * connections are).
 */
public final class QueuePublisher {

    private static final XAddArgs EXISTING_STREAM_ONLY = new XAddArgs().nomkstream();

    private final RedisStreamCommands<String, String> redis;
    private final EnvelopeSigner signer;
    private final String stream;
    private final AuditLog audit;

    private QueuePublisher(Builder builder) {
        this.redis = builder.redis;
        this.signer = builder.signer;
        this.stream = RedisAcl.streamKey(signer.queue(), builder.service != null ? builder.service
                : ServiceIdentity.parse(signer.publisher()).serviceName());
        this.audit = builder.audit;
    }

    /**
     * A publisher writing with {@code redis} (a hardened connection of the publisher's ACL user) to
     * the stream named after the last path segment of the signer's SPIFFE ID.
     */
    public static QueuePublisher of(RedisStreamCommands<String, String> redis, EnvelopeSigner signer) {
        return builder(redis, signer).build();
    }

    /** A publisher writing to the stream of {@code service}, its name in the policy. */
    public static QueuePublisher of(RedisStreamCommands<String, String> redis, EnvelopeSigner signer, String service) {
        return builder(redis, signer).service(service).build();
    }

    /** Starts a publisher writing with {@code redis} and sealing with {@code signer}. */
    public static Builder builder(RedisStreamCommands<String, String> redis, EnvelopeSigner signer) {
        return new Builder(redis, signer);
    }

    /** The stream this publisher writes to. */
    public String stream() {
        return stream;
    }

    /**
     * Seals and appends {@code payload}; returns once Redis has accepted the entry.
     *
     * @return the stream entry ID
     * @throws QueueException {@link QueueException.Reason#NO_STREAM} (audit {@code queue.stream_missing})
     *     if the stream does not exist: nothing was published
     */
    public String publish(byte[] payload) {
        String id = redis.xadd(stream, EXISTING_STREAM_ONLY, signer.seal(payload).toFields());
        if (id == null) {
            throw audit.event(QueueAudit.STREAM_MISSING).field("queue", signer.queue()).field("stream", stream)
                    .refused(new QueueException(QueueException.Reason.NO_STREAM, "stream " + stream + " does not"
                            + " exist: Redis lost it (a restart without persistence, a node that came back empty?) or"
                            + " the setup step never ran. Nothing was published; find out whether messages were lost,"
                            + " then run QueueConsumer.createGroup as the operator (it creates the stream and its"
                            + " group)"));
        }
        return id;
    }

    @Override
    public String toString() {
        return "QueuePublisher[" + stream + "]";
    }

    /** Settings of a {@link QueuePublisher}. */
    public static final class Builder {
        private final RedisStreamCommands<String, String> redis;
        private final EnvelopeSigner signer;
        private @Nullable String service;
        private AuditLog audit = AuditLog.slf4j();

        private Builder(RedisStreamCommands<String, String> redis, EnvelopeSigner signer) {
            this.redis = Objects.requireNonNull(redis, "redis");
            this.signer = Objects.requireNonNull(signer, "signer");
        }

        /** The publisher's service name in the policy (default: the last path segment of the signer's SPIFFE ID). */
        public Builder service(String service) {
            this.service = Objects.requireNonNull(service, "service");
            return this;
        }

        /** Where refused publishes are recorded (default SLF4J). */
        public Builder auditLog(AuditLog audit) {
            this.audit = Objects.requireNonNull(audit, "audit");
            return this;
        }

        /** The publisher. */
        public QueuePublisher build() {
            return new QueuePublisher(this);
        }
    }
}
