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
import io.settler.zerotrust.audit.AuditLog;
import io.settler.zerotrust.audit.LogSafe;
import io.settler.zerotrust.redis.RedisAcl;
import io.settler.zerotrust.redis.RedisReplayGuard;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import java.util.stream.IntStream;
import org.jspecify.annotations.Nullable;

/**
 * A worker of one queue: reads, with a consumer group, the stream of every publisher its
 * {@link EnvelopeVerifier} allows; verifies each entry before the handler sees anything; and
 * acknowledges an entry only after the handler returned and the group's record that it handled the
 * entry was written. Rejected entries are written to the dead-letter stream
 * {@link RedisAcl#deadLetterKey} with their reason (and, when they may be genuine, the message:
 * {@link DeadLetters}), recorded and acknowledged. Entries left
 * unacknowledged (handler failed, worker died) are reclaimed with {@code XAUTOCLAIM} after
 * {@link Builder#claimAfter} and dead-lettered after {@link Builder#maxDeliveries} deliveries.
 * Reclaimed entries are verified in full too: the replay check passes only if the group's record
 * of the jti names this very entry, or there is none yet (a {@link RedisReplayGuard} is required).
 * Housekeeping finds deliveries Redis lost (delivered, not pending, not recorded as handled) and
 * runs them again. Entries every group acknowledged and recorded are trimmed; pending, undelivered
 * and unproven ones never are.
 *
 * <p>Call {@link #poll()} from one thread per consumer (its own connection); not thread-safe.
 * The consumer group is created by {@link #createGroup}, an explicit setup step: a missing group
 * is a {@link QueueException.Reason#NO_GROUP} error, never an empty queue.
 */
public final class QueueConsumer {

    private static final String NOTHING_READ = "0-0";
    /**
     * How long the record that a group handled an entry is kept, from the entry's time: entries
     * older than that (less a minute) are outside the proof of {@link #proveHandled}.
     */
    static final Duration HANDLED_RECORDS = Duration.ofMinutes(30);
    private static final Duration PROOF_MARGIN = Duration.ofMinutes(1);
    /** Entries checked per stream, group and housekeeping round. */
    private static final int PROOF_BATCH = 1_000;

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
    private final RedisReplayGuard records;
    /** Per stream and group: every delivered entry up to this one is recorded as handled. */
    private final Map<String, String> proven = new HashMap<>();
    /** Records of handled entries the guard's Redis refused, kept to be written again (holder -> until). */
    private final Map<String, Instant> unrecorded = new LinkedHashMap<>();
    /** Deliveries Redis lost (see {@link #proveHandled}) and how often this worker ran them again. */
    private final Map<String, Integer> lostAttempts = new HashMap<>();
    private final boolean trim;
    private final long housekeepingMillis;
    private long nextHousekeeping = Long.MIN_VALUE;

    private QueueConsumer(Builder builder, String group, String consumer, RedisReplayGuard records) {
        this.redis = builder.redis;
        this.verifier = builder.verifier;
        this.handler = builder.handler;
        this.group = group;
        this.consumer = Consumer.from(group, consumer);
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
        this.records = records;
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
                admin.xgroupCreate(XReadArgs.StreamOffset.from(stream, "0"), group,
                        XGroupCreateArgs.Builder.mkstream());
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
            recordAgain();
            for (String stream : owners.keySet()) {
                processed += keepStream(stream);
                processed += reclaim(stream);
            }
        }
        @SuppressWarnings("unchecked")
        List<StreamMessage<String, String>> fresh = call(null, () -> redis.xreadgroup(consumer,
                XReadArgs.Builder.count(batchSize), offsets));
        List<Boolean> done = handled(group, fresh);
        for (int i = 0; i < fresh.size(); i++) {
            processUnlessHandled(fresh.get(i), done.get(i));
            processed++;
        }
        return processed;
    }

    /**
     * Processes an entry, or only acknowledges it when this group's record says it was handled
     * already: delivered again because Redis lost the acknowledgement or rolled the group back.
     */
    private void processUnlessHandled(StreamMessage<String, String> entry, boolean handled) {
        if (handled) {
            call(entry.getStream(), () -> redis.xack(entry.getStream(), group, entry.getId()));
        } else {
            process(entry);
        }
    }

    /**
     * For each entry, whether {@code group} recorded it as handled or dead-lettered (one round
     * trip), or this worker handled it and could not record it yet.
     */
    private List<Boolean> handled(String group, List<StreamMessage<String, String>> entries) {
        List<String> holders = entries.stream().map(entry -> holder(group, entry.getStream(), entry.getId())).toList();
        List<Boolean> done;
        try {
            done = records.done(holders);
        } catch (RuntimeException e) {
            throw audit.event(QueueAudit.REPLAY_CHECK_FAILED).field("queue", verifier.queue()).field("group", group)
                    .refused(recordsUnavailable(e));
        }
        return IntStream.range(0, holders.size()).mapToObj(i -> done.get(i) || unrecorded.containsKey(holders.get(i)))
                .toList();
    }

    /**
     * Records that this group is done with an entry (handled or dead-lettered), before it is
     * acknowledged. If the guard's Redis refuses, the record is kept here and written again at
     * the next housekeeping (audit {@code queue.handled_record_failed}): the entry's work is done.
     */
    private void recordHandled(StreamMessage<String, String> entry) {
        long now = clock.millis();
        long time;
        try {
            time = Math.max(now, Math.min(StreamState.millis(entry.getId()), now + maxFuture.toMillis()));
        } catch (NumberFormatException e) {
            time = now;
        }
        String holder = holder(group, entry.getStream(), entry.getId());
        unrecorded.put(holder, Instant.ofEpochMilli(time).plus(HANDLED_RECORDS));
        if (!recordAgain()) {
            audit.event(QueueAudit.HANDLED_RECORD_FAILED)
                    .field("queue", verifier.queue()).field("stream", entry.getStream()).field("entry", entry.getId())
                    .field("group", group).field("detail", "the replay guard's Redis refused the record that the"
                            + " entry was handled; kept in memory and written again at the next housekeeping")
                    .record();
        }
    }

    /** Writes the records kept in memory; false if the guard's Redis still refuses. */
    private boolean recordAgain() {
        for (var iterator = unrecorded.entrySet().iterator(); iterator.hasNext(); ) {
            Map.Entry<String, Instant> record = iterator.next();
            try {
                records.recordDone(record.getKey(), record.getValue());
            } catch (RuntimeException e) {
                return false;
            }
            iterator.remove();
        }
        return true;
    }

    /** The name of a group's record of an entry: length-prefixed, so no group and entry read as another. */
    private static String holder(String group, String stream, String id) {
        return group.length() + ":" + group + ":" + stream + " " + id;
    }

    /** The refusal when the replay guard's Redis fails on the records of handled entries. */
    private static QueueException recordsUnavailable(RuntimeException e) {
        return new QueueException(QueueException.Reason.REPLAY_CHECK_FAILED, "the replay guard's Redis could not read"
                + " or write the records of handled entries (" + e.getClass().getName() + "); nothing was"
                + " acknowledged: fix the guard's Redis (reachable, writable, its user allowed SET and MGET)", e);
    }

    private int reclaim(String stream) {
        List<StreamMessage<String, String>> claimed = call(stream, () -> redis.xautoclaim(stream,
                XAutoClaimArgs.Builder.xautoclaim(consumer, claimAfter, "0-0").count(batchSize)).getMessages());
        List<StreamMessage<String, String>> present = claimed.stream()
                .filter(message -> message.getBody() != null && !message.getBody().isEmpty()) // not deleted
                .toList();
        List<Boolean> done = handled(group, present);
        int processed = 0;
        for (int i = 0; i < present.size(); i++) {
            StreamMessage<String, String> message = present.get(i);
            if (done.get(i)) {
                processUnlessHandled(message, true);
                processed++;
                continue;
            }
            List<PendingMessage> pending = call(stream, () -> redis.xpending(stream, group,
                    Range.create(message.getId(), message.getId()), Limit.from(1)));
            long deliveries = pending.isEmpty() ? 0 : pending.get(0).getRedeliveryCount();
            if (deliveries > maxDeliveries) {
                deadLetter(message, QueueException.Reason.TOO_MANY_DELIVERIES, "delivered " + deliveries
                        + " times; the handler failed each time (limit " + maxDeliveries + ")");
            } else {
                process(message);
            }
            processed++;
        }
        return processed;
    }

    /**
     * Verifies, handles, records and acknowledges one entry, or dead-letters it. Every delivery
     * makes the replay check, bound to this entry: it passes only if this group's record of the jti
     * is missing or names this very entry (a handler that failed, a worker that died, a delivery
     * Redis lost or repeated), never because someone (a consumer that reads without verifying)
     * delivered it before. The record that the group handled the entry is written before the
     * acknowledgement, so an entry that is not pending is either recorded or was never handled.
     *
     * @throws QueueException {@link QueueException.Reason#REPLAY_CHECK_FAILED} when the replay guard
     *     fails: the entry and the rest of the batch stay pending and are checked when reclaimed
     */
    private void process(StreamMessage<String, String> entry) {
        VerifiedMessage message;
        try {
            checkNotFromTheFuture(entry);
            message = verifier.verify(Envelope.fromFields(entry.getBody()), owners.get(entry.getStream()), group,
                    entry.getStream() + " " + entry.getId(), true);
        } catch (QueueException e) {
            if (!e.isRejection()) {
                throw e; // audited by the verifier; nothing acknowledged
            }
            deadLetter(entry, e.reason(), e.getMessage());
            return;
        }
        long start = System.nanoTime();
        try {
            handler.handle(message);
        } catch (Exception e) {
            audit.event(QueueAudit.HANDLER_FAILED)
                    .field("queue", verifier.queue()).field("stream", entry.getStream()).field("entry", entry.getId())
                    .field("jti", message.jti()).field("error", e.getClass().getName()).record();
            return; // not acknowledged: reclaimed after claimAfter
        }
        recordHandled(entry);
        call(entry.getStream(), () -> redis.xack(entry.getStream(), group, entry.getId()));
        if (audit.records(QueueAudit.MESSAGE_HANDLED)) {
            audit.event(QueueAudit.MESSAGE_HANDLED)
                    .field("queue", verifier.queue()).field("stream", entry.getStream()).field("entry", entry.getId())
                    .field("group", group).field("jti", message.jti()).elapsedSince(start).record();
        }
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
            throw audit.event(QueueAudit.STREAM_POISONED)
                    .field("queue", verifier.queue()).field("stream", entry.getStream()).field("entry", id)
                    .refused(new QueueException(QueueException.Reason.POISONED, "entry " + LogSafe.text(id) + " of "
                            + entry.getStream() + " has an ID more than " + maxFuture + " in the future: it blocks"
                            + " every later XADD with an automatic ID on that stream; delete the stream after"
                            + " inspecting it and check who holds the publisher's credentials"));
        }
    }

    /**
     * Alerts when someone else trimmed or deleted entries of the stream, and says how many of them
     * this group had not handled; finds deliveries Redis lost and runs this group's again; then
     * trims what every group is done with and recorded as handled.
     *
     * @return how many lost deliveries were handled or dead-lettered
     */
    private int keepStream(String stream) {
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
        boolean report = (trimmedByOthers && !Objects.equals(before.firstEntryId(), first))
                || lostEntries > before.lost();
        shrinks.put(stream, new Shrink(report ? first : before.firstEntryId(), lostEntries));
        if (report) {
            audit.event(QueueAudit.STREAM_SHRANK)
                    .field("queue", verifier.queue()).field("stream", stream).field("group", group)
                    .field("lost", lostEntries).field("length", state.length())
                    .field("detail", "someone else trimmed or deleted entries (e.g. XADD MAXLEN with a publisher's"
                            + " credentials); 'lost' counts those this group had not handled, which will never run")
                    .record();
        }
        int processed = 0;
        String trimAt = keep; // null: decide next round
        for (StreamState.Group each : state.groups()) {
            Proof proof = proveHandled(stream, each);
            String unproven = proof.firstUnproven();
            if (trimAt != null && unproven != null && StreamState.compare(unproven, trimAt) < 0) {
                trimAt = unproven;
            }
            if (each.name().equals(group)) {
                processed += runLost(stream, proof.lost());
            }
        }
        String minId = trimAt;
        if (trim && minId != null && first != null && StreamState.compare(minId, first) > 0) {
            call(stream, () -> redis.xtrim(stream, XTrimArgs.Builder.minId(minId)));
        }
        return processed;
    }

    /**
     * Which entries {@code of} the group delivered (up to its last delivered ID) that are neither
     * pending nor recorded as handled by it: deliveries Redis lost. Redis 7.0 drops a group's
     * deliveries when it reloads an append-only file whose {@code MULTI}/{@code EXEC} the
     * {@code default} user may not run, and the group's read counter with them, so the counts of
     * {@link StreamState} cannot see it. The pending list is read before the records, and an entry
     * is recorded before it is acknowledged, so an entry handled meanwhile is never taken as lost.
     * Checks entries younger than {@link #HANDLED_RECORDS}, from where the last round proved all
     * handled; {@link Proof#firstUnproven} is where trimming must stop.
     */
    private Proof proveHandled(String stream, StreamState.Group of) {
        String last = of.lastDeliveredId();
        if (last == null || last.equals(NOTHING_READ)) {
            return Proof.NONE;
        }
        String cursorKey = stream + " " + of.name();
        String windowStart = (clock.millis() - HANDLED_RECORDS.minus(PROOF_MARGIN).toMillis()) + "-0";
        String from = proven.get(cursorKey);
        Range.Boundary<String> lower = from == null || StreamState.compare(from, windowStart) < 0
                ? Range.Boundary.including(windowStart) : Range.Boundary.excluding(from);
        List<StreamMessage<String, String>> entries = call(stream, () -> redis.xrange(stream,
                Range.from(lower, Range.Boundary.including(last)), Limit.from(PROOF_BATCH)));
        if (entries.isEmpty()) {
            proven.put(cursorKey, last);
            return Proof.NONE;
        }
        String lastChecked = entries.get(entries.size() - 1).getId();
        Set<String> pending = new HashSet<>();
        call(stream, () -> redis.xpending(stream, of.name(), Range.create(entries.get(0).getId(), lastChecked),
                Limit.from(entries.size() + of.pending()))).forEach(message -> pending.add(message.getId()));
        List<Boolean> done = handled(of.name(), entries);
        String cursor = from;
        boolean cursorMoves = true;
        List<StreamMessage<String, String>> lost = new ArrayList<>();
        for (int i = 0; i < entries.size(); i++) {
            StreamMessage<String, String> entry = entries.get(i);
            boolean recorded = done.get(i);
            if (!recorded && !pending.contains(entry.getId())) {
                lost.add(entry);
            }
            cursorMoves &= recorded;
            cursor = cursorMoves ? entry.getId() : cursor;
        }
        if (cursor != null) {
            proven.put(cursorKey, cursor);
        }
        if (!lost.isEmpty()) {
            return new Proof(lost.get(0).getId(), lost);
        }
        // Not all checked yet: nothing after the last one checked is proven.
        return entries.size() == PROOF_BATCH ? new Proof(lastChecked, List.of()) : Proof.NONE;
    }

    /** What {@link #proveHandled} found: the first entry not proven handled, and the lost deliveries. */
    private record Proof(@Nullable String firstUnproven, List<StreamMessage<String, String>> lost) {
        static final Proof NONE = new Proof(null, List.of());
    }

    /**
     * Reports deliveries Redis lost ({@code queue.deliveries_lost}) and runs them again, each
     * through the full verification; one worker of the group takes each for {@code claimAfter}
     * (at least 1 s; a claim record), as long as an idle pending entry is left alone. After
     * {@code maxDeliveries} failed runs an entry is dead-lettered.
     */
    private int runLost(String stream, List<StreamMessage<String, String>> lost) {
        List<String> names = lost.stream().map(entry -> holder(group, stream, entry.getId())).toList();
        long fresh = names.stream().filter(name -> !lostAttempts.containsKey(name)).count();
        lostAttempts.keySet().removeIf(name -> name.startsWith(holder(group, stream, "")) && !names.contains(name));
        if (fresh > 0) {
            audit.event(QueueAudit.DELIVERIES_LOST)
                    .field("queue", verifier.queue()).field("stream", stream).field("group", group)
                    .field("lost", fresh).field("first", lost.get(0).getId())
                    .field("detail", "Redis lost deliveries of this group: delivered, never acknowledged after"
                            + " handling, no longer pending (an append-only file reloaded without them? give the"
                            + " default user the ACL RedisAcl renders); they are delivered again")
                    .record();
        }
        int processed = 0;
        Instant lease = clock.instant().plus(claimAfter.compareTo(Duration.ofSeconds(1)) < 0
                ? Duration.ofSeconds(1) : claimAfter);
        for (int i = 0; i < lost.size(); i++) {
            StreamMessage<String, String> entry = lost.get(i);
            boolean mine;
            try {
                mine = records.claim(names.get(i), lease);
            } catch (RuntimeException e) {
                throw audit.event(QueueAudit.REPLAY_CHECK_FAILED).field("queue", verifier.queue())
                        .field("group", group).refused(recordsUnavailable(e));
            }
            if (!mine) {
                continue; // another worker of the group runs it, or a failed run waits for its lease to end
            }
            int attempts = lostAttempts.merge(names.get(i), 1, Integer::sum);
            if (attempts > maxDeliveries) {
                deadLetter(entry, QueueException.Reason.TOO_MANY_DELIVERIES, "a delivery Redis lost was run again "
                        + (attempts - 1) + " times; the handler failed each time (limit " + maxDeliveries + ")");
            } else {
                process(entry);
            }
            processed++;
        }
        return processed;
    }

    /**
     * The oldest entry some group still needs: its oldest pending entry, or its last delivered one
     * (kept, so the stream never looks emptied); {@code null} to decide next round. Entries
     * delivered or acknowledged after {@code state} was read all lie at or above it, so trimming
     * below it ({@code XTRIM MINID}) drops nothing any group still needs.
     */
    private @Nullable String oldestNeeded(String stream, StreamState state) {
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
    private record Shrink(@Nullable String firstEntryId, long lost) {
        static final Shrink NONE = new Shrink("none", 0);
    }

    /**
     * Writes the dead letter, records the entry as done, then acknowledges it: a crash in between
     * delivers it again (a second dead letter), never loses the record of a rejection. For a
     * message that may be genuine ({@link DeadLetters#keepsMessage}) the dead letter keeps its
     * envelope fields, so an operator can replay it ({@link DeadLetters#replay}).
     */
    private void deadLetter(StreamMessage<String, String> entry, QueueException.Reason reason,
            @Nullable String detail) {
        Map<String, String> fields = new LinkedHashMap<>();
        fields.put("reason", reason.name());
        fields.put("stream", entry.getStream());
        fields.put("entry", entry.getId());
        fields.put("group", group);
        fields.put("detail", LogSafe.text(detail));
        if (DeadLetters.keepsMessage(reason)) {
            Envelope.FIELDS.stream().filter(entry.getBody()::containsKey)
                    .forEach(field -> fields.put(field, entry.getBody().get(field)));
        }
        call(deadLetter, () -> redis.xadd(deadLetter, fields));
        recordHandled(entry);
        call(entry.getStream(), () -> redis.xack(entry.getStream(), group, entry.getId()));
        audit.event(QueueAudit.DEAD_LETTERED)
                .field("queue", verifier.queue()).field("stream", entry.getStream()).field("entry", entry.getId())
                .field("group", group).field("reason", reason).record();
    }

    private <T> T call(@Nullable String stream, Supplier<T> command) {
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

    private QueueException noGroup(@Nullable String stream, @Nullable RedisCommandExecutionException cause) {
        String where = stream == null ? "the streams " + owners.keySet() : stream;
        return audit.event(QueueAudit.GROUP_MISSING).field("queue", verifier.queue()).field("group", group)
                .field("stream", where).refused(new QueueException(QueueException.Reason.NO_GROUP, "consumer group '"
                        + group + "' is missing on " + where + ": Redis lost it (a restart without persistence?) or"
                        + " the setup step never ran. Find out whether messages were lost, then run"
                        + " QueueConsumer.createGroup as the operator", cause));
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
        private @Nullable String group;
        private @Nullable String consumer;
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

        /**
         * Where handled messages ({@link QueueAudit#MESSAGE_HANDLED}, built only if the log
         * {@link AuditLog#records records} it), dead letters, poisoning, missing groups and handler
         * failures are recorded (default SLF4J); the log's clock stamps them.
         */
        public Builder auditLog(AuditLog audit) {
            this.audit = Objects.requireNonNull(audit, "audit");
            return this;
        }

        /** The clock for poisoning checks, housekeeping and the lifetime of handled records. */
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
            RedisReplayGuard records = verifier.records();
            if (records == null) {
                throw invalid("the verifier's replay guard must be a RedisReplayGuard, shared by all workers: it"
                        + " records which stream entry used each jti, so a reclaimed entry is checked too");
            }
            return new QueueConsumer(this, group, consumer, records);
        }

        private static QueueException invalid(String message) {
            return new QueueException(QueueException.Reason.INVALID_CONFIGURATION, message);
        }
    }
}
