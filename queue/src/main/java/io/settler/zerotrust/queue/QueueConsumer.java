package io.settler.zerotrust.queue;

import io.lettuce.core.api.sync.RedisStreamCommands;
import io.settler.zerotrust.audit.AuditLog;
import io.settler.zerotrust.redis.RedisReplayGuard;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.stream.IntStream;
import org.jspecify.annotations.Nullable;

/**
 * A worker of one queue, the same on every transport: takes deliveries from a
 * {@link DeliverySource}, verifies each before the handler sees anything, and settles it. A
 * verified message is handled, recorded as finished by the group, and only then acknowledged; a
 * refused one is dead-lettered with its reason (and, when it may be genuine, the message:
 * {@link DeadLetters}), recorded and acknowledged; one whose handler threw is left for
 * redelivery, and dead-lettered once delivered more than {@link Builder#maxDeliveries} times.
 * Every delivery makes the replay check, bound to the message's ID: it passes only if the
 * group's record of the jti names this very message, or there is none yet (a
 * {@link RedisReplayGuard} is required). A delivery the group recorded as finished (an
 * acknowledgement the broker lost) is acknowledged without running the handler again.
 *
 * <p>On Redis Streams ({@link #builder(RedisStreamCommands, EnvelopeVerifier, MessageHandler)},
 * {@link RedisStreamsTransport}) a worker reads, with a consumer group, the stream of every
 * publisher its {@link EnvelopeVerifier} allows; entries left unacknowledged are reclaimed after
 * {@link RedisBuilder#claimAfter}; housekeeping finds deliveries Redis lost and trims what every
 * group finished. The consumer group is created by {@link #createGroup}, an explicit setup step: a
 * missing group is a {@link QueueException.Reason#NO_GROUP} error, never an empty queue.
 *
 * <p>Call {@link #poll()} from one thread per consumer (its own connection); not thread-safe.
 */
public final class QueueConsumer {

    /**
     * How long the record that a group handled an entry is kept, from the entry's time: entries
     * older than that (less a minute) are outside Redis Streams' check for lost deliveries.
     */
    static final Duration HANDLED_RECORDS = Duration.ofMinutes(30);

    private final DeliverySource source;
    private final EnvelopeVerifier verifier;
    private final MessageHandler handler;
    private final String group;
    private final int maxDeliveries;
    private final AuditLog audit;
    private final Clock clock;
    private final GuardRecords records;

    private QueueConsumer(Builder builder, RedisReplayGuard guard) {
        this.source = builder.source;
        this.verifier = builder.verifier;
        this.handler = builder.handler;
        this.group = source.group();
        this.maxDeliveries = builder.maxDeliveries;
        this.audit = builder.audit;
        this.clock = builder.clock;
        this.records = new GuardRecords(guard);
    }

    /**
     * Starts a consumer taking deliveries from {@code source} (any transport), verifying with
     * {@code verifier} and running {@code handler}.
     */
    public static Builder builder(DeliverySource source, EnvelopeVerifier verifier, MessageHandler handler) {
        return new Builder(source, verifier, handler);
    }

    /**
     * On Redis Streams: starts a consumer reading with {@code redis} (a hardened connection of the
     * worker's ACL user), verifying with {@code verifier} and running {@code handler}; a shortcut for
     * {@link RedisStreamsTransport#source} and {@link #builder(DeliverySource, EnvelopeVerifier, MessageHandler)}.
     */
    public static RedisBuilder builder(RedisStreamCommands<String, String> redis, EnvelopeVerifier verifier,
                                       MessageHandler handler) {
        return new RedisBuilder(redis, verifier, handler);
    }

    /**
     * On Redis Streams, the setup step: creates {@code group} on every allowed publisher's stream
     * (creating empty streams), starting at the beginning; an existing group is left as it is. Run
     * it with an operator's connection (workers have no {@code XGROUP}), once, and again only after
     * checking why a group went missing. The same as {@link RedisStreamsTransport#createGroup}.
     */
    public static void createGroup(RedisStreamCommands<String, String> admin, EnvelopeVerifier verifier, String group) {
        RedisStreamsTransport.createGroup(admin, verifier, group);
    }

    /**
     * One round: writes records of finished messages the guard refused before, takes a batch from
     * the source ({@link DeliverySource#receive}; on Redis Streams with housekeeping first, see
     * {@link RedisStreamsTransport}), then settles each delivery: acknowledged if the group already
     * finished it, dead-lettered if delivered more than {@code maxDeliveries} times, else verified,
     * then handled and acknowledged, or dead-lettered. The acknowledgements of a batch go together
     * ({@link DeliverySource#acknowledge(List)}, on Redis one {@code XACK} per stream) after the last
     * delivery was settled, or when the round fails; each only after its message's record was written.
     *
     * @return how many deliveries were settled (handled, dead-lettered, or acknowledged as finished
     *     before) or left for redelivery by a failing handler
     * @throws QueueException {@link QueueException.Reason#NO_GROUP} if the group is missing;
     *     {@link QueueException.Reason#REPLAY_CHECK_FAILED} if the replay guard failed: the delivery and
     *     the rest of the batch are left for redelivery, and are checked again then
     */
    public int poll() {
        records.writeKept();
        List<Delivery> deliveries = source.receive(records);
        List<Delivery> toAcknowledge = new ArrayList<>(deliveries.size());
        int settled = 0;
        try {
            List<Boolean> finished = records.finished(group, deliveries.stream()
                    .map(delivery -> holder(group, delivery.source(), delivery.id())).toList());
            for (; settled < deliveries.size(); settled++) {
                settle(deliveries.get(settled), finished.get(settled), toAcknowledge);
            }
        } catch (RuntimeException e) {
            for (Delivery unsettled : deliveries.subList(settled, deliveries.size())) {
                try {
                    unsettled.leaveForRedelivery();
                } catch (RuntimeException again) {
                    e.addSuppressed(again);
                }
            }
            try {
                source.acknowledge(toAcknowledge); // finished and recorded: done, whatever came after
            } catch (RuntimeException again) {
                e.addSuppressed(again); // delivered again, then acknowledged as finished before
            }
            throw e;
        }
        source.acknowledge(toAcknowledge);
        return settled;
    }

    /**
     * Acknowledges a delivery the group finished already (delivered again because the broker lost
     * the acknowledgement or rolled the group back); dead-letters one delivered too often;
     * processes the others. What is to be acknowledged is added to {@code toAcknowledge}.
     */
    private void settle(Delivery delivery, boolean finished, List<Delivery> toAcknowledge) {
        if (finished) {
            toAcknowledge.add(delivery);
            return;
        }
        long deliveries = delivery.deliveryCount();
        if (deliveries > maxDeliveries) {
            deadLetter(delivery, QueueException.Reason.TOO_MANY_DELIVERIES, "delivered " + deliveries
                    + " times; the handler failed each time (limit " + maxDeliveries + ")", toAcknowledge);
        } else {
            process(delivery, toAcknowledge);
        }
    }

    /**
     * Verifies, handles, records and adds to {@code toAcknowledge} one delivery, or dead-letters it.
     * Every delivery makes the replay check, bound to this message: it passes only if this group's record of the
     * jti is missing or names this very message (a handler that failed, a worker that died, a
     * delivery the broker lost or repeated), never because someone (a consumer that reads without
     * verifying) received it before. The record that the group handled the message is written
     * before the acknowledgement, so a message that is acknowledged is either recorded or was
     * never handled.
     *
     * @throws QueueException {@link QueueException.Reason#REPLAY_CHECK_FAILED} when the replay guard
     *     fails: the delivery is not acknowledged
     */
    private void process(Delivery delivery, List<Delivery> toAcknowledge) {
        VerifiedMessage message;
        try {
            delivery.checkUsable();
            message = verifier.verify(delivery.envelope(), authenticatedService(delivery), group,
                    holderOf(delivery), true);
        } catch (QueueException e) {
            if (!e.isRejection()) {
                throw e; // audited by the verifier; nothing acknowledged
            }
            deadLetter(delivery, e.reason(), String.valueOf(e.getMessage()), toAcknowledge);
            return;
        }
        long start = System.nanoTime();
        try {
            handler.handle(message);
        } catch (Exception e) {
            audit.event(QueueAudit.HANDLER_FAILED)
                    .field("queue", verifier.queue()).field("stream", delivery.source()).field("entry", delivery.id())
                    .field("jti", message.jti()).field("error", e.getClass().getName()).record();
            delivery.leaveForRedelivery();
            return;
        }
        recordFinished(delivery);
        toAcknowledge.add(delivery);
        if (audit.records(QueueAudit.MESSAGE_HANDLED)) {
            audit.event(QueueAudit.MESSAGE_HANDLED)
                    .field("queue", verifier.queue()).field("stream", delivery.source()).field("entry", delivery.id())
                    .field("group", group).field("jti", message.jti()).elapsedSince(start).record();
        }
    }

    /**
     * The service the transport authenticated as the publisher (its name in the verifier's
     * publishers; an ID it does not know stays as it is, so no issuer matches it), or null.
     */
    private @Nullable String authenticatedService(Delivery delivery) {
        return delivery.authenticatedPublisher().map(id -> verifier.publishers().getOrDefault(id, id)).orElse(null);
    }

    /** What the replay guard binds a jti to: the message's source and ID. */
    private static String holderOf(Delivery delivery) {
        return delivery.source() + " " + delivery.id();
    }

    /**
     * Writes the dead letter, records the message as finished, then adds it to {@code toAcknowledge}:
     * a crash in between delivers it again (a second dead letter), never loses the record of a rejection. For
     * a message that may be genuine ({@link DeadLetters#keepsMessage}) the dead letter keeps its
     * envelope, so an operator can replay it.
     */
    private void deadLetter(Delivery delivery, QueueException.Reason reason, String detail,
                            List<Delivery> toAcknowledge) {
        delivery.deadLetter(reason, detail, DeadLetters.keepsMessage(reason));
        recordFinished(delivery);
        toAcknowledge.add(delivery);
        audit.event(QueueAudit.DEAD_LETTERED)
                .field("queue", verifier.queue()).field("stream", delivery.source()).field("entry", delivery.id())
                .field("group", group).field("reason", reason).record();
    }

    /**
     * Records that this group is done with a message (handled or dead-lettered), before it is
     * acknowledged, for {@link #HANDLED_RECORDS} from the broker's time of it (or from now, if
     * later). If the guard's Redis refuses, the record is kept here and written again at the next
     * poll (audit {@code queue.handled_record_failed}): the message's work is done.
     */
    private void recordFinished(Delivery delivery) {
        long now = clock.millis();
        long time = Math.max(now, delivery.brokerTime().map(Instant::toEpochMilli).orElse(now));
        records.keep(holder(group, delivery.source(), delivery.id()), Instant.ofEpochMilli(time).plus(HANDLED_RECORDS));
        if (!records.writeKept()) {
            audit.event(QueueAudit.HANDLED_RECORD_FAILED)
                    .field("queue", verifier.queue()).field("stream", delivery.source()).field("entry", delivery.id())
                    .field("group", group).field("detail", "the replay guard's Redis refused the record that the"
                            + " entry was handled; kept in memory and written again at the next poll")
                    .record();
        }
    }

    /** The name of a group's record of a message: length-prefixed, so no group and message read as another. */
    private static String holder(String group, String source, String id) {
        return group.length() + ":" + group + ":" + source + " " + id;
    }

    @Override
    public String toString() {
        return "QueueConsumer[" + verifier.queue() + ", " + source + "]";
    }

    /**
     * The group's records of finished messages in the replay guard's Redis, plus those this worker
     * finished while that Redis refused the record (kept here and written again).
     */
    private final class GuardRecords implements HandledRecords {
        private final RedisReplayGuard guard;
        /** Records the guard's Redis refused, kept to be written again (holder -> until). */
        private final Map<String, Instant> unrecorded = new LinkedHashMap<>();

        GuardRecords(RedisReplayGuard guard) {
            this.guard = guard;
        }

        @Override
        public List<Boolean> finished(String group, String source, List<String> ids) {
            return finished(group, ids.stream().map(id -> holder(group, source, id)).toList());
        }

        /** For each holder, whether the guard recorded it or this worker finished it and could not record it yet. */
        List<Boolean> finished(String group, List<String> holders) {
            List<Boolean> done;
            try {
                done = guard.done(holders);
            } catch (RuntimeException e) {
                throw audit.event(QueueAudit.REPLAY_CHECK_FAILED).field("queue", verifier.queue()).field("group", group)
                        .refused(unavailable(e));
            }
            return IntStream.range(0, holders.size())
                    .mapToObj(i -> done.get(i) || unrecorded.containsKey(holders.get(i))).toList();
        }

        @Override
        public boolean claimLost(String source, String id, Instant until) {
            try {
                return guard.claim(holder(group, source, id), until);
            } catch (RuntimeException e) {
                throw audit.event(QueueAudit.REPLAY_CHECK_FAILED).field("queue", verifier.queue())
                        .field("group", group).refused(unavailable(e));
            }
        }

        void keep(String holder, Instant until) {
            unrecorded.put(holder, until);
        }

        /** Writes the records kept in memory; false if the guard's Redis still refuses. */
        boolean writeKept() {
            for (var iterator = unrecorded.entrySet().iterator(); iterator.hasNext(); ) {
                Map.Entry<String, Instant> record = iterator.next();
                try {
                    guard.recordDone(record.getKey(), record.getValue());
                } catch (RuntimeException e) {
                    return false;
                }
                iterator.remove();
            }
            return true;
        }

        /** The refusal when the replay guard's Redis fails on the records of handled messages. */
        private QueueException unavailable(RuntimeException e) {
            return new QueueException(QueueException.Reason.REPLAY_CHECK_FAILED, "the replay guard's Redis could not"
                    + " read or write the records of handled entries (" + e.getClass().getName() + "); nothing was"
                    + " acknowledged: fix the guard's Redis (reachable, writable, its user allowed SET and MGET)", e);
        }
    }

    /** Settings of a {@link QueueConsumer} on any transport. */
    public static final class Builder {
        private final DeliverySource source;
        private final EnvelopeVerifier verifier;
        private final MessageHandler handler;
        private int maxDeliveries = 5;
        private AuditLog audit = AuditLog.slf4j();
        private Clock clock = Clock.systemUTC();

        private Builder(DeliverySource source, EnvelopeVerifier verifier, MessageHandler handler) {
            this.source = Objects.requireNonNull(source, "source");
            this.verifier = Objects.requireNonNull(verifier, "verifier");
            this.handler = Objects.requireNonNull(handler, "handler");
        }

        /** Deliveries after which a message whose handler keeps failing is dead-lettered (default 5). */
        public Builder maxDeliveries(int maxDeliveries) {
            this.maxDeliveries = checkMaxDeliveries(maxDeliveries);
            return this;
        }

        /**
         * Where handled messages ({@link QueueAudit#MESSAGE_HANDLED}, built only if the log
         * {@link AuditLog#records records} it), dead letters and handler failures are recorded
         * (default SLF4J); the log's clock stamps them.
         */
        public Builder auditLog(AuditLog audit) {
            this.audit = Objects.requireNonNull(audit, "audit");
            return this;
        }

        /** The clock for the lifetime of the records of finished messages. */
        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /**
         * The consumer.
         *
         * @throws QueueException {@link QueueException.Reason#INVALID_CONFIGURATION} if the source
         *     reads another queue than the verifier checks, or the verifier's replay guard is not a
         *     {@link RedisReplayGuard}
         */
        public QueueConsumer build() {
            if (!source.queue().equals(verifier.queue())) {
                throw Queues.invalid("the source reads queue " + source.queue() + " but the verifier checks "
                        + verifier.queue() + "; use one queue for both");
            }
            RedisReplayGuard guard = verifier.records();
            if (guard == null) {
                throw Queues.invalid("the verifier's replay guard must be a RedisReplayGuard, shared by all workers:"
                        + " it records which message used each jti, so a redelivered message is checked too");
            }
            return new QueueConsumer(this, guard);
        }

        private static int checkMaxDeliveries(int maxDeliveries) {
            if (maxDeliveries < 1) {
                throw Queues.invalid("maxDeliveries is at least 1; got " + maxDeliveries);
            }
            return maxDeliveries;
        }
    }

    /**
     * Settings of a {@link QueueConsumer} on Redis Streams: those of
     * {@link RedisStreamsTransport.SourceBuilder} and of {@link Builder} in one place.
     */
    public static final class RedisBuilder {
        private final RedisStreamsTransport.SourceBuilder source;
        private final EnvelopeVerifier verifier;
        private final MessageHandler handler;
        private int maxDeliveries = 5;
        private AuditLog audit = AuditLog.slf4j();
        private Clock clock = Clock.systemUTC();

        private RedisBuilder(RedisStreamCommands<String, String> redis, EnvelopeVerifier verifier,
                MessageHandler handler) {
            this.source = RedisStreamsTransport.source(redis, verifier);
            this.verifier = verifier;
            this.handler = Objects.requireNonNull(handler, "handler");
        }

        /** Required: the consumer group, e.g. {@code workers}. */
        public RedisBuilder group(String group) {
            source.group(group);
            return this;
        }

        /** Required: this worker's name in the group, unique and stable across its restarts. */
        public RedisBuilder consumer(String consumer) {
            source.consumer(consumer);
            return this;
        }

        /** See {@link RedisStreamsTransport.SourceBuilder#claimAfter} (default 1 min). */
        public RedisBuilder claimAfter(Duration claimAfter) {
            source.claimAfter(claimAfter);
            return this;
        }

        /** See {@link Builder#maxDeliveries} (default 5). */
        public RedisBuilder maxDeliveries(int maxDeliveries) {
            this.maxDeliveries = Builder.checkMaxDeliveries(maxDeliveries);
            return this;
        }

        /** See {@link RedisStreamsTransport.SourceBuilder#batchSize} (default 32). */
        public RedisBuilder batchSize(int batchSize) {
            source.batchSize(batchSize);
            return this;
        }

        /** See {@link RedisStreamsTransport.SourceBuilder#maxFutureSkew} (default 1 h). */
        public RedisBuilder maxFutureSkew(Duration maxFuture) {
            source.maxFutureSkew(maxFuture);
            return this;
        }

        /** Where the consumer and its source record their events (default SLF4J). */
        public RedisBuilder auditLog(AuditLog audit) {
            this.audit = Objects.requireNonNull(audit, "audit");
            source.auditLog(audit);
            return this;
        }

        /** The clock of the consumer and its source. */
        public RedisBuilder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            source.clock(clock);
            return this;
        }

        /** See {@link RedisStreamsTransport.SourceBuilder#trimAcknowledged} (default {@code true}). */
        public RedisBuilder trimAcknowledged(boolean trim) {
            source.trimAcknowledged(trim);
            return this;
        }

        /** The consumer; see {@link Builder#build()}. */
        public QueueConsumer build() {
            return QueueConsumer.builder(source.build(), verifier, handler).maxDeliveries(maxDeliveries)
                    .auditLog(audit).clock(clock).build();
        }
    }
}
