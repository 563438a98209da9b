package io.settler.zerotrust.queue;

import io.lettuce.core.api.sync.RedisStreamCommands;
import io.settler.zerotrust.audit.AuditLog;
import io.settler.zerotrust.identity.ServiceIdentity;
import io.settler.zerotrust.redis.RedisAcl;
import java.time.Clock;
import java.time.Duration;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The queue on Redis Streams: each publisher appends to its own stream {@code queue:{<queue>}:<service>}
 * ({@link RedisAcl#streamKey}), which only its ACL user may write; a consumer group reads all of
 * them. Connections are {@code sync()} commands of redis-tls's {@code HardenedRedis} or
 * {@code HardenedRedisCluster}, of the ACL users {@link RedisAcl} renders from the policy.
 *
 * <pre>{@code
 * RedisStreamsTransport.createGroup(operatorRedis, verifier, "workers");   // setup, as the operator
 * EnvelopeSender sender = RedisStreamsTransport.sender(apiRedis, "jobs", "api").build();
 * DeliverySource source = RedisStreamsTransport.source(workerRedis, verifier)
 *         .group("workers").consumer("worker-1").build();
 * }</pre>
 *
 * <p>How it keeps the {@link DeliverySource} contract: entries stay in the group's pending list
 * until {@code XACK}; unacknowledged ones are reclaimed ({@code XAUTOCLAIM}) after
 * {@link SourceBuilder#claimAfter}; the delivery count is the pending list's; the stream owner is
 * the {@link Delivery#authenticatedPublisher()}; dead letters are written by the worker to
 * {@link RedisAcl#deadLetterKey} with their reason ({@link DeadLetters} replays them). On top of
 * that it finds deliveries Redis itself lost and trims what every group finished (see the
 * module's README, "Delivery" and "Stream growth").
 */
public final class RedisStreamsTransport {

    private RedisStreamsTransport() {
    }

    /**
     * Starts the sender of {@code service} (its name in the policy) to {@code queue}, writing with
     * {@code redis} (a hardened connection of that service's ACL user) to its own stream.
     */
    public static SenderBuilder sender(RedisStreamCommands<String, String> redis, String queue, String service) {
        return new SenderBuilder(redis, queue, service);
    }

    /** The sender of the publisher that {@code signer} seals for: the last path segment of its SPIFFE ID. */
    public static SenderBuilder sender(RedisStreamCommands<String, String> redis, EnvelopeSigner signer) {
        return sender(redis, signer.queue(), ServiceIdentity.parse(signer.publisher()).serviceName());
    }

    /**
     * Starts the source of one worker reading, with {@code redis} (a hardened connection of the
     * worker's ACL user), the streams of every publisher {@code verifier} allows.
     */
    public static SourceBuilder source(RedisStreamCommands<String, String> redis, EnvelopeVerifier verifier) {
        return new SourceBuilder(redis, verifier);
    }

    /**
     * The setup step: creates {@code group} on every allowed publisher's stream (creating empty
     * streams), starting at the beginning; an existing group is left as it is. Run it with an
     * operator's connection (workers have no {@code XGROUP}), once, and again only after checking
     * why a group went missing.
     */
    public static void createGroup(RedisStreamCommands<String, String> admin, EnvelopeVerifier verifier,
            String group) {
        Objects.requireNonNull(admin, "admin");
        Objects.requireNonNull(group, "group");
        RedisStreamSource.createGroup(admin, verifier, group);
    }

    /** Settings of a Redis Streams {@link EnvelopeSender}. */
    public static final class SenderBuilder {
        private final RedisStreamCommands<String, String> redis;
        private final String queue;
        private String service;
        private AuditLog audit = AuditLog.slf4j();

        private SenderBuilder(RedisStreamCommands<String, String> redis, String queue, String service) {
            this.redis = Objects.requireNonNull(redis, "redis");
            this.queue = Queues.checkName(queue);
            this.service = Objects.requireNonNull(service, "service");
        }

        /** The publisher's service name in the policy, whose stream is written. */
        public SenderBuilder service(String service) {
            this.service = Objects.requireNonNull(service, "service");
            return this;
        }

        /** Where refused sends ({@code queue.stream_missing}) are recorded (default SLF4J). */
        public SenderBuilder auditLog(AuditLog audit) {
            this.audit = Objects.requireNonNull(audit, "audit");
            return this;
        }

        /** The sender. */
        public EnvelopeSender build() {
            return new RedisStreamSender(redis, queue, service, audit);
        }
    }

    /** Settings of a Redis Streams {@link DeliverySource}. */
    public static final class SourceBuilder {
        final RedisStreamCommands<String, String> redis;
        final EnvelopeVerifier verifier;
        @Nullable String group;
        @Nullable String consumer;
        Duration claimAfter = Duration.ofMinutes(1);
        int batchSize = 32;
        Duration maxFuture = Duration.ofHours(1);
        AuditLog audit = AuditLog.slf4j();
        Clock clock = Clock.systemUTC();
        boolean trim = true;

        private SourceBuilder(RedisStreamCommands<String, String> redis, EnvelopeVerifier verifier) {
            this.redis = Objects.requireNonNull(redis, "redis");
            this.verifier = Objects.requireNonNull(verifier, "verifier");
        }

        /** Required: the consumer group, e.g. {@code workers}. */
        public SourceBuilder group(String group) {
            this.group = Objects.requireNonNull(group, "group");
            return this;
        }

        /** Required: this worker's name in the group, unique and stable across its restarts. */
        public SourceBuilder consumer(String consumer) {
            this.consumer = Objects.requireNonNull(consumer, "consumer");
            return this;
        }

        /**
         * How long an entry stays unacknowledged before another worker may reclaim it (default
         * 1 min); housekeeping (reclaiming, the length check, the check for lost deliveries,
         * trimming) runs at most every {@code min(claimAfter, 1 s)}.
         */
        public SourceBuilder claimAfter(Duration claimAfter) {
            Objects.requireNonNull(claimAfter, "claimAfter");
            if (claimAfter.isNegative()) {
                throw Queues.invalid("claimAfter must not be negative; got " + claimAfter);
            }
            this.claimAfter = claimAfter;
            return this;
        }

        /** Entries read per stream and round, new and reclaimed each (default 32). */
        public SourceBuilder batchSize(int batchSize) {
            if (batchSize < 1 || batchSize > 10_000) {
                throw Queues.invalid("batchSize is 1 to 10000; got " + batchSize);
            }
            this.batchSize = batchSize;
            return this;
        }

        /** How far in the future an entry ID may lie before the entry is treated as poison (default 1 h). */
        public SourceBuilder maxFutureSkew(Duration maxFuture) {
            this.maxFuture = Objects.requireNonNull(maxFuture, "maxFuture");
            return this;
        }

        /**
         * Whether housekeeping trims entries that every consumer group of a stream has acknowledged
         * (default {@code true}): {@code XTRIM MINID} at the oldest entry still pending in, or last
         * delivered to, any group, so streams do not grow without bound and no entry a group still
         * needs is dropped. A group created later starts after what was trimmed. Turn it off when
         * something else trims, or to keep entries for inspection.
         */
        public SourceBuilder trimAcknowledged(boolean trim) {
            this.trim = trim;
            return this;
        }

        /**
         * Where missing groups, poisoned, shrunk streams and lost deliveries are recorded (default
         * SLF4J); the log's clock stamps them.
         */
        public SourceBuilder auditLog(AuditLog audit) {
            this.audit = Objects.requireNonNull(audit, "audit");
            return this;
        }

        /** The clock for poisoning checks, housekeeping and the window of lost-delivery checks. */
        public SourceBuilder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /** The source. */
        public DeliverySource build() {
            if (group == null || group.isBlank() || consumer == null || consumer.isBlank()) {
                throw Queues.invalid("set group(...) and consumer(...): the consumer group and this worker's"
                        + " stable name");
            }
            return new RedisStreamSource(this, group, consumer);
        }
    }
}
