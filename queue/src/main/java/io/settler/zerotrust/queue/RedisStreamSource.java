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
import java.util.Optional;
import java.util.Set;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * Deliveries from Redis Streams: one worker of a consumer group reading the stream of every
 * publisher the verifier allows. New entries come from {@code XREADGROUP}; entries left
 * unacknowledged longer than {@code claimAfter} are reclaimed with {@code XAUTOCLAIM} (their
 * delivery count from {@code XPENDING}). Housekeeping, at most every {@code min(claimAfter, 1 s)},
 * alerts when someone else trimmed or deleted entries, finds deliveries Redis lost (delivered, not
 * pending, not recorded as handled) and hands them over again, and trims what every group finished.
 * Dead letters go to the stream {@link RedisAcl#deadLetterKey}. Not thread-safe.
 */
final class RedisStreamSource implements DeliverySource {

    private static final String NOTHING_READ = "0-0";
    private static final Duration PROOF_MARGIN = Duration.ofMinutes(1);
    /** Entries checked per stream, group and housekeeping round. */
    private static final int PROOF_BATCH = 1_000;

    private final RedisStreamCommands<String, String> redis;
    private final String queue;
    private final String group;
    private final Consumer<String> consumer;
    private final Map<String, String> owners; // stream -> publisher service
    private final Map<String, String> ownerIds; // stream -> a SPIFFE ID of that service
    @SuppressWarnings("rawtypes")
    private final XReadArgs.StreamOffset[] offsets;
    private final String deadLetterStream;
    private final Duration claimAfter;
    private final int batchSize;
    private final Duration maxFuture;
    private final AuditLog audit;
    private final Clock clock;
    private final boolean trim;
    private final long housekeepingMillis;
    private final Map<String, Shrink> shrinks = new HashMap<>();
    /** Per stream and group: every delivered entry up to this one is recorded as handled. */
    private final Map<String, String> proven = new HashMap<>();
    /** Deliveries Redis lost (see {@link #proveHandled}) and how often this worker handed them over again. */
    private final Map<String, Integer> lostAttempts = new HashMap<>();
    private long nextHousekeeping = Long.MIN_VALUE;

    RedisStreamSource(RedisStreamsTransport.SourceBuilder builder, String group, String consumer) {
        this.redis = builder.redis;
        this.queue = builder.verifier.queue();
        this.group = group;
        this.consumer = Consumer.from(group, consumer);
        this.owners = streams(builder.verifier);
        Map<String, String> ids = new HashMap<>();
        builder.verifier.publishers().entrySet().stream().sorted(Map.Entry.comparingByKey())
                .forEach(publisher -> ids.putIfAbsent(RedisAcl.streamKey(queue, publisher.getValue()),
                        publisher.getKey()));
        this.ownerIds = Map.copyOf(ids);
        this.offsets = owners.keySet().stream().map(XReadArgs.StreamOffset::lastConsumed)
                .toArray(XReadArgs.StreamOffset[]::new);
        this.deadLetterStream = RedisAcl.deadLetterKey(queue);
        this.claimAfter = builder.claimAfter;
        this.batchSize = builder.batchSize;
        this.maxFuture = builder.maxFuture;
        this.audit = builder.audit;
        this.clock = builder.clock;
        this.trim = builder.trim;
        this.housekeepingMillis = Math.min(claimAfter.toMillis(), 1_000);
    }

    /** The streams of the verifier's allowed publishers, in order: stream to service. */
    static Map<String, String> streams(EnvelopeVerifier verifier) {
        Map<String, String> streams = new LinkedHashMap<>();
        verifier.publishers().values().stream().sorted().distinct()
                .forEach(service -> streams.put(RedisAcl.streamKey(verifier.queue(), service), service));
        return streams;
    }

    /** The setup step: {@link RedisStreamsTransport#createGroup}. */
    static void createGroup(RedisStreamCommands<String, String> admin, EnvelopeVerifier verifier, String group) {
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

    @Override
    public String queue() {
        return queue;
    }

    @Override
    public String group() {
        return group;
    }

    /** The streams read, in order: one per allowed publisher. */
    List<String> streams() {
        return List.copyOf(owners.keySet());
    }

    /**
     * Housekeeping first (at most every {@code min(claimAfter, 1 s)}, and on the first round): per
     * stream, the deliveries Redis lost, then the entries idle longer than {@code claimAfter}
     * ({@code XAUTOCLAIM}); then up to {@code batchSize} new entries per stream ({@code XREADGROUP},
     * without blocking).
     */
    @Override
    public List<Delivery> receive(HandledRecords records) {
        List<Delivery> deliveries = new ArrayList<>();
        long now = clock.millis();
        if (now >= nextHousekeeping) {
            nextHousekeeping = now + housekeepingMillis;
            for (String stream : owners.keySet()) {
                keepStream(stream, records, deliveries);
                reclaim(stream, deliveries);
            }
        }
        @SuppressWarnings("unchecked")
        List<StreamMessage<String, String>> fresh = call(null, () -> redis.xreadgroup(consumer,
                XReadArgs.Builder.count(batchSize), offsets));
        fresh.forEach(entry -> deliveries.add(new Entry(entry, () -> 1L)));
        return deliveries;
    }

    /**
     * One {@code XACK} per stream for the entries of this source among {@code deliveries} (others,
     * one by one): the acknowledgements of a batch in one round trip for a single publisher.
     */
    @Override
    public void acknowledge(List<Delivery> deliveries) {
        Map<String, List<String>> byStream = new LinkedHashMap<>();
        for (Delivery delivery : deliveries) {
            if (delivery instanceof Entry entry && entry.from(this)) {
                byStream.computeIfAbsent(delivery.source(), stream -> new ArrayList<>()).add(delivery.id());
            } else {
                delivery.acknowledge();
            }
        }
        byStream.forEach((stream, ids) -> call(stream, () -> redis.xack(stream, group, ids.toArray(String[]::new))));
    }

    private void reclaim(String stream, List<Delivery> deliveries) {
        List<StreamMessage<String, String>> claimed = call(stream, () -> redis.xautoclaim(stream,
                XAutoClaimArgs.Builder.xautoclaim(consumer, claimAfter, "0-0").count(batchSize)).getMessages());
        claimed.stream()
                .filter(message -> message.getBody() != null && !message.getBody().isEmpty()) // not deleted
                .forEach(message -> deliveries.add(new Entry(message, () -> {
                    List<PendingMessage> pending = call(stream, () -> redis.xpending(stream, group,
                            Range.create(message.getId(), message.getId()), Limit.from(1)));
                    return pending.isEmpty() ? 0L : pending.get(0).getRedeliveryCount();
                })));
    }

    /**
     * Alerts when someone else trimmed or deleted entries of the stream, and says how many of them
     * this group had not handled; finds deliveries Redis lost and hands this group's over again;
     * then trims what every group is done with and recorded as handled.
     */
    private void keepStream(String stream, HandledRecords records, List<Delivery> deliveries) {
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
                    .field("queue", queue).field("stream", stream).field("group", group)
                    .field("lost", lostEntries).field("length", state.length())
                    .field("detail", "someone else trimmed or deleted entries (e.g. XADD MAXLEN with a publisher's"
                            + " credentials); 'lost' counts those this group had not handled, which will never run")
                    .record();
        }
        String trimAt = keep; // null: decide next round
        for (StreamState.Group each : state.groups()) {
            Proof proof = proveHandled(stream, each, records);
            String unproven = proof.firstUnproven();
            if (trimAt != null && unproven != null && StreamState.compare(unproven, trimAt) < 0) {
                trimAt = unproven;
            }
            if (each.name().equals(group)) {
                handOverLost(stream, proof.lost(), records, deliveries);
            }
        }
        String minId = trimAt;
        if (trim && minId != null && first != null && StreamState.compare(minId, first) > 0) {
            call(stream, () -> redis.xtrim(stream, XTrimArgs.Builder.minId(minId)));
        }
    }

    /**
     * Which entries {@code of} the group delivered (up to its last delivered ID) that are neither
     * pending nor recorded as handled by it: deliveries Redis lost. Redis 7.0 drops a group's
     * deliveries when it reloads an append-only file whose {@code MULTI}/{@code EXEC} the
     * {@code default} user may not run, and the group's read counter with them, so the counts of
     * {@link StreamState} cannot see it. The pending list is read before the records, and an entry
     * is recorded before it is acknowledged, so an entry handled meanwhile is never taken as lost.
     * Checks entries younger than {@link QueueConsumer#HANDLED_RECORDS}, from where the last round
     * proved all handled; {@link Proof#firstUnproven} is where trimming must stop.
     */
    private Proof proveHandled(String stream, StreamState.Group of, HandledRecords records) {
        String last = of.lastDeliveredId();
        if (last == null || last.equals(NOTHING_READ)) {
            return Proof.NONE;
        }
        String cursorKey = stream + " " + of.name();
        String windowStart = (clock.millis() - QueueConsumer.HANDLED_RECORDS.minus(PROOF_MARGIN).toMillis()) + "-0";
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
        List<Boolean> done = records.finished(of.name(), stream, entries.stream().map(StreamMessage::getId).toList());
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
     * Reports deliveries Redis lost ({@code queue.deliveries_lost}) and hands them over again, each
     * to go through the full verification; one worker of the group takes each for
     * {@code claimAfter} (at least 1 s; a claim record), as long as an idle pending entry is left
     * alone. Their delivery count is how often this worker handed them over.
     */
    private void handOverLost(String stream, List<StreamMessage<String, String>> lost, HandledRecords records,
            List<Delivery> deliveries) {
        List<String> names = lost.stream().map(entry -> stream + " " + entry.getId()).toList();
        long fresh = names.stream().filter(name -> !lostAttempts.containsKey(name)).count();
        lostAttempts.keySet().removeIf(name -> name.startsWith(stream + " ") && !names.contains(name));
        if (fresh > 0) {
            audit.event(QueueAudit.DELIVERIES_LOST)
                    .field("queue", queue).field("stream", stream).field("group", group)
                    .field("lost", fresh).field("first", lost.get(0).getId())
                    .field("detail", "Redis lost deliveries of this group: delivered, never acknowledged after"
                            + " handling, no longer pending (an append-only file reloaded without them? give the"
                            + " default user the ACL RedisAcl renders); they are delivered again")
                    .record();
        }
        Instant lease = clock.instant().plus(claimAfter.compareTo(Duration.ofSeconds(1)) < 0
                ? Duration.ofSeconds(1) : claimAfter);
        for (int i = 0; i < lost.size(); i++) {
            StreamMessage<String, String> entry = lost.get(i);
            if (!records.claimLost(stream, entry.getId(), lease)) {
                continue; // another worker of the group runs it, or a failed run waits for its lease to end
            }
            long attempts = lostAttempts.merge(names.get(i), 1, Integer::sum);
            deliveries.add(new Entry(entry, () -> attempts));
        }
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
        return audit.event(QueueAudit.GROUP_MISSING).field("queue", queue).field("group", group)
                .field("stream", where).refused(new QueueException(QueueException.Reason.NO_GROUP, "consumer group '"
                        + group + "' is missing on " + where + ": Redis lost it (a restart without persistence?) or"
                        + " the setup step never ran. Find out whether messages were lost, then run"
                        + " QueueConsumer.createGroup as the operator", cause));
    }

    @Override
    public String toString() {
        return "RedisStreamSource[" + queue + ", group=" + group + ", consumer=" + consumer.getName() + "]";
    }

    /** A stream entry delivered to this worker; its delivery count is read only when asked for. */
    private final class Entry implements Delivery {
        private final StreamMessage<String, String> message;
        private final LongSupplier deliveries;

        Entry(StreamMessage<String, String> message, LongSupplier deliveries) {
            this.message = message;
            this.deliveries = deliveries;
        }

        @Override
        public String source() {
            return message.getStream();
        }

        @Override
        public String id() {
            return message.getId();
        }

        @Override
        public Envelope envelope() {
            return Envelope.fromFields(message.getBody());
        }

        @Override
        public long deliveryCount() {
            return deliveries.getAsLong();
        }

        @Override
        public Optional<String> authenticatedPublisher() {
            return Optional.ofNullable(ownerIds.get(message.getStream()));
        }

        @Override
        public Optional<Instant> brokerTime() {
            long now = clock.millis();
            try {
                return Optional.of(Instant.ofEpochMilli(Math.min(StreamState.millis(message.getId()),
                        now + maxFuture.toMillis())));
            } catch (NumberFormatException e) {
                return Optional.empty();
            }
        }

        @Override
        public void checkUsable() {
            String id = message.getId();
            long millis;
            try {
                millis = StreamState.millis(id);
            } catch (NumberFormatException e) {
                millis = Long.MAX_VALUE;
            }
            long limit = clock.millis() + maxFuture.toMillis();
            if (millis < 0 || millis > limit) { // an unsigned value above Long.MAX_VALUE reads as negative
                throw audit.event(QueueAudit.STREAM_POISONED)
                        .field("queue", queue).field("stream", message.getStream()).field("entry", id)
                        .refused(new QueueException(QueueException.Reason.POISONED, "entry " + LogSafe.text(id)
                                + " of " + message.getStream() + " has an ID more than " + maxFuture + " in the"
                                + " future: it blocks every later XADD with an automatic ID on that stream; delete"
                                + " the stream after inspecting it and check who holds the publisher's credentials"));
            }
        }

        @Override
        public void acknowledge() {
            call(message.getStream(), () -> redis.xack(message.getStream(), group, message.getId()));
        }

        /** Whether this entry was delivered by {@code source}, to its group on its connection. */
        boolean from(RedisStreamSource source) {
            return source == RedisStreamSource.this;
        }

        /** {@code XADD} to the dead-letter stream: reason, stream, entry, group, detail, and the envelope's fields. */
        @Override
        public void deadLetter(QueueException.Reason reason, String detail, boolean keepMessage) {
            Map<String, String> fields = new LinkedHashMap<>();
            fields.put("reason", reason.name());
            fields.put("stream", message.getStream());
            fields.put("entry", message.getId());
            fields.put("group", group);
            fields.put("detail", LogSafe.text(detail));
            if (keepMessage) {
                Envelope.FIELDS.stream().filter(message.getBody()::containsKey)
                        .forEach(field -> fields.put(field, message.getBody().get(field)));
            }
            call(deadLetterStream, () -> redis.xadd(deadLetterStream, fields));
        }

        /** Nothing: the entry stays pending and is reclaimed after {@code claimAfter}. */
        @Override
        public void leaveForRedelivery() {
        }

        @Override
        public String toString() {
            return "Entry[" + message.getStream() + " " + message.getId() + "]";
        }
    }
}
