package io.settler.zerotrust.queue;

import io.lettuce.core.XAddArgs;
import io.lettuce.core.api.sync.RedisStreamCommands;
import io.settler.zerotrust.audit.AuditLog;
import io.settler.zerotrust.redis.RedisAcl;

/**
 * Sends to a publisher's own stream {@code queue:{<queue>}:<service>} with {@code XADD ... NOMKSTREAM}:
 * only to a stream that exists, never re-creating one Redis lost (it would come back without its
 * consumer group, and its messages would wait unseen); and no {@code MAXLEN}/{@code MINID}
 * trimming, which could drop entries still pending.
 */
final class RedisStreamSender implements EnvelopeSender {

    private static final XAddArgs EXISTING_STREAM_ONLY = new XAddArgs().nomkstream();

    private final RedisStreamCommands<String, String> redis;
    private final String queue;
    private final String stream;
    private final AuditLog audit;

    RedisStreamSender(RedisStreamCommands<String, String> redis, String queue, String service, AuditLog audit) {
        this.redis = redis;
        this.queue = queue;
        this.stream = RedisAcl.streamKey(queue, service);
        this.audit = audit;
    }

    @Override
    public String queue() {
        return queue;
    }

    @Override
    public String destination() {
        return stream;
    }

    @Override
    public String send(Envelope envelope) {
        String id = redis.xadd(stream, EXISTING_STREAM_ONLY, envelope.toFields());
        if (id == null) {
            throw audit.event(QueueAudit.STREAM_MISSING).field("queue", queue).field("stream", stream)
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
        return "RedisStreamSender[" + stream + "]";
    }
}
