package io.settler.zerotrust.queue;

import io.lettuce.core.Consumer;
import io.lettuce.core.Limit;
import io.lettuce.core.Range;
import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.StreamMessage;
import io.lettuce.core.XAutoClaimArgs;
import io.lettuce.core.XGroupCreateArgs;
import io.lettuce.core.XReadArgs;
import io.lettuce.core.XTrimArgs;
import io.lettuce.core.api.sync.RedisStreamCommands;
import io.lettuce.core.models.stream.PendingMessage;
import io.settler.zerotrust.audit.AuditEvent;
import io.settler.zerotrust.audit.AuditLog;
import io.settler.zerotrust.audit.LogSafe;
import io.settler.zerotrust.redis.RedisAcl;
import io.settler.zerotrust.redis.RedisReplayGuard;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * A worker of one queue: reads, with a consumer group, the stream of every publisher its
 * {@link EnvelopeVerifier} allows; verifies each entry before the handler sees anything; and
 * acknowledges an entry only after the handler returned. Rejected entries are acknowledged and
 * written to the dead-letter stream {@link RedisAcl#deadLetterKey} with their reason. Entries left
 * unacknowledged (handler failed, worker died) are reclaimed with {@code XAUTOCLAIM} after
 * {@link Builder#claimAfter} and dead-lettered after {@link Builder#maxDeliveries} deliveries.
 * Reclaimed entries are verified in full too: the replay check passes only if the group's record
 * of the jti names this very entry, or there is none yet (a {@link RedisReplayGuard} is required).
 * Entries every group acknowledged are trimmed; pending and undelivered ones never are.
 *
 * <p>Call {@link #poll()} from one thread per consumer (its own connection); not thread-safe.
 * The consumer group is created by {@link #createGroup}, an explicit setup step: a missing group
 * is a {@link QueueException.Reason#NO_GROUP} error, never an empty queue.
 */
public final class QueueConsumer {

    private static final String NOTHING_READ = "0-0";

    private final RedisStreamCommands<String, String> redis;
    private final EnvelopeVerifier verifier;
    private final MessageHandler handler;
    private final String group;
    private final Consumer<String> consumer;
    private final Map<String, String> owners; // stream -> publisher service
    @SuppressWarnings("rawtypes")
    private final XReadArgs.StreamOffset[] offsets;
    private final String deadLetter;
    private final Duration claimAfter;
    private final int maxDeliveries;
    private final int batchSize;
    private final Duration maxFuture;
    private final AuditLog audit;
    private final Clock clock;
    private final Map<String, Shrink> shrinks = new ConcurrentHashMap<>();
    private final boolean trim;
    private final long housekeepingMillis;
    private long nextHousekeeping = Long.MIN_VALUE;

    private QueueConsumer(Builder builder) {
        this.redis = builder.redis;
        this.verifier = builder.verifier;
        this.handler = builder.handler;
        this.group = builder.group;
        this.consumer = Consumer.from(builder.group, builder.consumer);
        this.owners = streams(verifier);
        this.offsets = owners.keySet().stream().map(XReadArgs.StreamOffset::lastConsumed)
                .toArray(XReadArgs.StreamOffset[]::new);
        this.deadLetter = RedisAcl.deadLetterKey(verifier.queue());
        this.claimAfter = builder.claimAfter;
        this.maxDeliveries = builder.maxDeliveries;
        this.batchSize = builder.batchSize;
        this.maxFuture = builder.maxFuture;
        this.audit = builder.audit;
        this.clock = builder.clock;
        this.housekeepingMillis = Math.min(claimAfter.toMillis(), 1_000);
        this.trim = builder.trim;
    }

    /** Starts a consumer that verifies with {@code verifier} and runs {@code handler}. */
    public static Builder builder(RedisStreamCommands<String, String> redis, EnvelopeVerifier verifier,
                                  MessageHandler handler) {
        return new Builder(redis, verifier, handler);
    }

    /**
     * The setup step: creates {@code group} on every allowed publisher's stream (creating empty
     * streams), starting at the beginning; an existing group is left as it is. Run it with an
     * operator's connection (workers have no {@code XGROUP}), once, and again only after checking
     * why a group went missing.
     */
    public static void createGroup(RedisStreamCommands<String, String> admin, EnvelopeVerifier verifier, String group) {
        for (String stream : streams(verifier).keySet()) {
            try {
                admin.xgroupCreate(XReadArgs.StreamOffset.from(stream, "0"), group, XGroupCreateArgs.Builder.mkstream());
            } catch (RedisCommandExecutionException e) {
                if (e.getMessage() == null || !e.getMessage().startsWith("BUSYGROUP")) {
                    throw e;
                }
            }
        }
    }

    /** The streams read, in order: one per allowed publisher. */
    public List<String> streams() {
        return List.copyOf(owners.keySet());
    }

    /**
     * One round: housekeeping first (at most every {@code min(claimAfter, 1 s)}, and on the first
     * poll): alerts ({@code queue.stream_shrank}) when someone else trimmed or deleted entries,
     * counting those this group had not handled, trims what every group acknowledged (see
     * {@link Builder#trimAcknowledged}) and reclaims entries idle longer than {@code claimAfter}.
     * Then reads up to {@code batchSize} new entries per stream (without blocking). Each entry is verified, then
     * handled and acknowledged, or dead-lettered.
     *
     * @return how many entries were handled or dead-lettered
     * @throws QueueException {@link QueueException.Reason#NO_GROUP} if the group is missing;
     *     {@link QueueException.Reason#REPLAY_CHECK_FAILED} if the replay guard failed: the entry and
     *     the rest of the batch stay pending, and are checked again when reclaimed
     */
    public int poll() {
        int processed = 0;
        long now = clock.millis();
        if (now >= nextHousekeeping) {
            nextHousekeeping = now + housekeepingMillis;
            for (String stream : owners.keySet()) {
                keepStream(stream);
                processed += reclaim(stream);
            }
        }
        @SuppressWarnings("unchecked")
        List<StreamMessage<String, String>> fresh = call(null, () -> redis.xreadgroup(consumer,
                XReadArgs.Builder.count(batchSize), offsets));
        for (StreamMessage<String, String> message : fresh) {
            process(message, false);
            processed++;
        }
        return processed;
    }

    private int reclaim(String stream) {
        List<StreamMessage<String, String>> claimed = call(stream, () -> redis.xautoclaim(stream,
                XAutoClaimArgs.Builder.xautoclaim(consumer, claimAfter, "0-0").count(batchSize)).getMessages());
        int processed = 0;
        for (StreamMessage<String, String> message : claimed) {
            if (message.getBody() == null || message.getBody().isEmpty()) {
                continue; // deleted while pending
            }
            List<PendingMessage> pending = call(stream, () -> redis.xpending(stream, group,
                    Range.create(message.getId(), message.getId()), Limit.from(1)));
            long deliveries = pending.isEmpty() ? 0 : pending.get(0).getRedeliveryCount();
            if (deliveries > maxDeliveries) {
                deadLetter(message, QueueException.Reason.TOO_MANY_DELIVERIES, "delivered " + deliveries
                        + " times; the handler failed each time (limit " + maxDeliveries + ")");
            } else {
                process(message, true);
            }
            processed++;
        }
        return processed;
    }

    /**
     * Verifies, handles and acknowledges one entry, or dead-letters it. Every delivery makes the
     * replay check, bound to this entry: a reclaimed entry passes it only if this group's record of
     * the jti is missing or names this very entry (a handler that failed, a worker that died),
     * never because someone (a consumer that reads without verifying) delivered it before.
     *
     * @throws QueueException {@link QueueException.Reason#REPLAY_CHECK_FAILED} when the replay guard
     *     fails: the entry and the rest of the batch stay pending and are checked when reclaimed
     */
    private void process(StreamMessage<String, String> entry, boolean redelivery) {
        VerifiedMessage message;
        try {
            checkNotFromTheFuture(entry);
            message = verifier.verify(Envelope.fromFields(entry.getBody()), owners.get(entry.getStream()), group,
                    entry.getStream() + " " + entry.getId(), redelivery);
        } catch (QueueException e) {
            if (!e.isRejection()) {
                throw e; // audited by the verifier; nothing acknowledged
            }
            deadLetter(entry, e.reason(), e.getMessage());
            return;
        }
        try {
            handler.handle(message);
        } catch (Exception e) {
            audit.record(AuditEvent.builder(clock.instant(), "queue.handler_failed", AuditEvent.Outcome.WARNING)
                    .field("queue", verifier.queue()).field("stream", entry.getStream()).field("entry", entry.getId())
                    .field("jti", message.jti()).field("error", e.getClass().getName()).build());
            return; // not acknowledged: reclaimed after claimAfter
        }
        call(entry.getStream(), () -> redis.xack(entry.getStream(), group, entry.getId()));
    }

    private void checkNotFromTheFuture(StreamMessage<String, String> entry) {
        String id = entry.getId();
        long millis;
        try {
            millis = StreamState.millis(id);
        } catch (NumberFormatException e) {
            millis = Long.MAX_VALUE;
        }
        long limit = clock.millis() + maxFuture.toMillis();
        if (millis < 0 || millis > limit) { // an unsigned value above Long.MAX_VALUE reads as negative
            audit.record(AuditEvent.builder(clock.instant(), "queue.stream_poisoned", AuditEvent.Outcome.WARNING)
                    .field("queue", verifier.queue()).field("stream", entry.getStream()).field("entry", id)
                    .field("detail", "entry ID lies in the future").build());
            throw new QueueException(QueueException.Reason.POISONED, "entry " + LogSafe.text(id) + " of "
                    + entry.getStream() + " has an ID more than " + maxFuture + " in the future: it blocks every later"
                    + " XADD with an automatic ID on that stream; delete the stream after inspecting it and check"
                    + " who holds the publisher's credentials");
        }
    }

    /**
     * Alerts when someone else trimmed or deleted entries of the stream, and says how many of them
     * this group had not handled; then trims what every group is done with.
     */
    private void keepStream(String stream) {
        StreamState state = call(stream, () -> StreamState.read(redis, stream));
        StreamState.Group mine = state.group(group);
        if (mine == null) {
            throw noGroup(stream, null);
        }
        String keep = oldestNeeded(stream, state);
        String first = state.firstEntryId();
        // Below 0: `keep` lies before the stream's first entry. Our own trims keep it, so someone else removed it.
        int keepVsFirst = keep == null || first == null ? 0 : StreamState.compare(keep, first);
        boolean trimmedByOthers = keep != null && !keep.equals(NOTHING_READ) && (first == null || keepVsFirst < 0);
        long unhandled = state.unhandled(mine);
        long lostEntries = Math.max(unhandled - state.length(), state.deletedUndelivered(mine) ? 1 : 0);
        Shrink before = shrinks.getOrDefault(stream, Shrink.NONE);
        boolean report = trimmedByOthers && !Objects.equals(before.firstEntryId(), first) || lostEntries > before.lost();
        shrinks.put(stream, new Shrink(report ? first : before.firstEntryId(), lostEntries));
        if (report) {
            audit.record(AuditEvent.builder(clock.instant(), "queue.stream_shrank", AuditEvent.Outcome.WARNING)
                    .field("queue", verifier.queue()).field("stream", stream).field("group", group)
                    .field("lost", lostEntries).field("length", state.length())
                    .field("detail", "someone else trimmed or deleted entries (e.g. XADD MAXLEN with a publisher's"
                            + " credentials); 'lost' counts those this group had not handled, which will never run")
                    .build());
        }
        if (trim && keepVsFirst > 0) {
            call(stream, () -> redis.xtrim(stream, XTrimArgs.Builder.minId(keep)));
        }
    }

    /**
     * The oldest entry some group still needs: its oldest pending entry, or its last delivered one
     * (kept, so the stream never looks emptied); {@code null} to decide next round. Entries
     * delivered or acknowledged after {@code state} was read all lie at or above it, so trimming
     * below it ({@code XTRIM MINID}) drops nothing any group still needs.
     */
    private String oldestNeeded(String stream, StreamState state) {
        String keep = null;
        for (StreamState.Group other : state.groups()) {
            String needed = other.pending() > 0
                    ? call(stream, () -> redis.xpending(stream, other.name())).getMessageIds().getLower().getValue()
                    : other.lastDeliveredId();
            if (needed == null) {
                return null; // its pending entries were all acknowledged meanwhile
            }
            keep = keep == null || StreamState.compare(needed, keep) < 0 ? needed : keep;
        }
        return keep;
    }

    /** What was last reported for a stream: where it began then, and how many unhandled entries were gone. */
    private record Shrink(String firstEntryId, long lost) {
        static final Shrink NONE = new Shrink("none", 0);
    }

    /** Acknowledges first, so a rejected entry is never delivered again; then records it. */
    private void deadLetter(StreamMessage<String, String> entry, QueueException.Reason reason, String detail) {
        call(entry.getStream(), () -> redis.xack(entry.getStream(), group, entry.getId()));
        Map<String, String> fields = new LinkedHashMap<>();
        fields.put("reason", reason.name());
        fields.put("stream", entry.getStream());
        fields.put("entry", entry.getId());
        fields.put("group", group);
        fields.put("detail", LogSafe.text(detail));
        call(deadLetter, () -> redis.xadd(deadLetter, fields));
        audit.record(AuditEvent.builder(clock.instant(), "queue.dead_lettered", AuditEvent.Outcome.REFUSED)
                .field("queue", verifier.queue()).field("stream", entry.getStream()).field("entry", entry.getId())
                .field("reason", reason).build());
    }

    private <T> T call(String stream, Supplier<T> command) {
        try {
            return command.get();
        } catch (RedisCommandExecutionException e) {
            if (e.getMessage() != null && e.getMessage().startsWith("NOGROUP")) {
                throw noGroup(stream, e);
            }
            if (stream != null && e.getMessage() != null && e.getMessage().startsWith("ERR no such key")) {
                throw noGroup(stream, e); // XINFO on a stream Redis lost
            }
            throw e;
        }
    }

    private QueueException noGroup(String stream, RedisCommandExecutionException cause) {
        String where = stream == null ? "the streams " + owners.keySet() : stream;
        audit.record(AuditEvent.builder(clock.instant(), "queue.group_missing", AuditEvent.Outcome.REFUSED)
                .field("queue", verifier.queue()).field("group", group).field("stream", where).build());
        return new QueueException(QueueException.Reason.NO_GROUP, "consumer group '" + group + "' is missing on "
                + where + ": Redis lost it (a restart without persistence?) or the setup step never ran."
                + " Find out whether messages were lost, then run QueueConsumer.createGroup as the operator", cause);
    }

    private static Map<String, String> streams(EnvelopeVerifier verifier) {
        Map<String, String> streams = new LinkedHashMap<>();
        verifier.publishers().values().stream().sorted().distinct()
                .forEach(service -> streams.put(RedisAcl.streamKey(verifier.queue(), service), service));
        return streams;
    }

    @Override
    public String toString() {
        return "QueueConsumer[" + verifier.queue() + ", group=" + group + ", consumer=" + consumer.getName() + "]";
    }

    /** Settings of a {@link QueueConsumer}. */
    public static final class Builder {
        private final RedisStreamCommands<String, String> redis;
        private final EnvelopeVerifier verifier;
        private final MessageHandler handler;
        private String group;
        private String consumer;
        private Duration claimAfter = Duration.ofMinutes(1);
        private int maxDeliveries = 5;
        private int batchSize = 32;
        private Duration maxFuture = Duration.ofHours(1);
        private AuditLog audit = AuditLog.slf4j();
        private Clock clock = Clock.systemUTC();
        private boolean trim = true;

        private Builder(RedisStreamCommands<String, String> redis, EnvelopeVerifier verifier, MessageHandler handler) {
            this.redis = Objects.requireNonNull(redis, "redis");
            this.verifier = Objects.requireNonNull(verifier, "verifier");
            this.handler = Objects.requireNonNull(handler, "handler");
        }

        /** Required: the consumer group, e.g. {@code workers}. */
        public Builder group(String group) {
            this.group = Objects.requireNonNull(group, "group");
            return this;
        }

        /** Required: this worker's name in the group, unique and stable across its restarts. */
        public Builder consumer(String consumer) {
            this.consumer = Objects.requireNonNull(consumer, "consumer");
            return this;
        }

        /**
         * How long an entry stays unacknowledged before another worker may reclaim it (default
         * 1 min); reclaiming and the length check run at most every {@code min(claimAfter, 1 s)}.
         */
        public Builder claimAfter(Duration claimAfter) {
            Objects.requireNonNull(claimAfter, "claimAfter");
            if (claimAfter.isNegative()) {
                throw invalid("claimAfter must not be negative; got " + claimAfter);
            }
            this.claimAfter = claimAfter;
            return this;
        }

        /** Deliveries after which an entry whose handler keeps failing is dead-lettered (default 5). */
        public Builder maxDeliveries(int maxDeliveries) {
            if (maxDeliveries < 1) {
                throw invalid("maxDeliveries is at least 1; got " + maxDeliveries);
            }
            this.maxDeliveries = maxDeliveries;
            return this;
        }

        /** Entries read per stream and round (default 32). */
        public Builder batchSize(int batchSize) {
            if (batchSize < 1 || batchSize > 10_000) {
                throw invalid("batchSize is 1 to 10000; got " + batchSize);
            }
            this.batchSize = batchSize;
            return this;
        }

        /** How far in the future an entry ID may lie before the entry is treated as poison (default 1 h). */
        public Builder maxFutureSkew(Duration maxFuture) {
            this.maxFuture = Objects.requireNonNull(maxFuture, "maxFuture");
            return this;
        }

        /** Where dead letters, poisoning, missing groups and handler failures are recorded (default SLF4J). */
        public Builder auditLog(AuditLog audit) {
            this.audit = Objects.requireNonNull(audit, "audit");
            return this;
        }

        /** The clock for poisoning checks and events. */
        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /**
         * Whether housekeeping trims entries that every consumer group of a stream has acknowledged
         * (default {@code true}): {@code XTRIM MINID} at the oldest entry still pending in, or last
         * delivered to, any group, so streams do not grow without bound and no entry a group still
         * needs is dropped. A group created later starts after what was trimmed. Turn it off when
         * something else trims, or to keep entries for inspection.
         */
        public Builder trimAcknowledged(boolean trim) {
            this.trim = trim;
            return this;
        }

        /** The consumer. */
        public QueueConsumer build() {
            if (group == null || group.isBlank() || consumer == null || consumer.isBlank()) {
                throw invalid("set group(...) and consumer(...): the consumer group and this worker's stable name");
            }
            if (!verifier.bindsEntries()) {
                throw invalid("the verifier's replay guard must be a RedisReplayGuard, shared by all workers: it"
                        + " records which stream entry used each jti, so a reclaimed entry is checked too");
            }
            return new QueueConsumer(this);
        }

        private static QueueException invalid(String message) {
            return new QueueException(QueueException.Reason.INVALID_CONFIGURATION, message);
        }
    }
}
