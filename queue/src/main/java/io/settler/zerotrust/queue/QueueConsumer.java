package io.settler.zerotrust.queue;

import io.lettuce.core.api.sync.RedisStreamCommands;
import io.settler.zerotrust.audit.AuditLog;
import io.settler.zerotrust.redis.RedisReplayGuard;
import io.settler.zerotrust.redis.RedisReplayGuard.Reply;
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
 * acknowledgement the broker lost) is acknowledged without running the handler again. Before a
 * worker settles a delivery it takes the group's lease on the message ({@link Builder#lease}): of two
 * deliveries of one message at the same time (a broker that requeued it, or two copies with one ID,
 * which a publisher can make on RabbitMQ) one runs and the other is left for redelivery; the lease of
 * a worker that died lapses, so the message runs then.
 *
 * <p>A batch costs a constant number of round trips to the replay guard's Redis, whatever its size:
 * one to read the records of finished messages, one for the leases and replay checks (sent together
 * through {@link RedisReplayGuard#pipeline()}), and the records of the batch's finished messages, each
 * sent as its message is settled and awaited together before the acknowledgements.
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

    /** How long a worker holds the group's lease on a message by default ({@link Builder#lease}). */
    static final Duration DEFAULT_LEASE = Duration.ofMinutes(1);

    /** What a settled delivery needs: acknowledged when {@code finished}, else its lease and checks. */
    private static final Check FINISHED = new Check(true, false, 0, null, null, null);

    private final DeliverySource source;
    private final EnvelopeVerifier verifier;
    private final MessageHandler handler;
    private final String group;
    private final int maxDeliveries;
    private final AuditLog audit;
    private final Clock clock;
    private final Duration lease;
    private final RedisReplayGuard.Pipeline pipeline;
    private final GuardRecords records;
    /** The records of finished messages sent this round, awaited before the round's acknowledgements. */
    private final List<SentRecord> sent = new ArrayList<>();

    private QueueConsumer(Builder builder, RedisReplayGuard guard) {
        this.source = builder.source;
        this.verifier = builder.verifier;
        this.handler = builder.handler;
        this.group = source.group();
        this.maxDeliveries = builder.maxDeliveries;
        this.audit = builder.audit;
        this.clock = builder.clock;
        this.lease = builder.lease;
        this.pipeline = guard.pipeline();
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
     * finished it, left for redelivery if another worker holds its lease, dead-lettered if delivered
     * more than {@code maxDeliveries} times, else verified, then handled and acknowledged, or
     * dead-lettered. The leases and the replay checks of the batch are sent together (one round trip
     * for all); if the guard fails on any of them, no delivery of the batch is settled, the leases this
     * worker took are given up and all are left for redelivery. The acknowledgements of a batch go
     * together ({@link DeliverySource#acknowledge(List)}, on Redis one {@code XACK} per stream) after
     * the last delivery was settled, or when the round fails; each only after its message's record was
     * written (or, if the guard's Redis refused it, kept to be written again).
     *
     * @return how many deliveries were settled (handled, dead-lettered, or acknowledged as finished
     *     before) or left for redelivery (a failing handler, another worker's lease)
     * @throws QueueException {@link QueueException.Reason#NO_GROUP} if the group is missing;
     *     {@link QueueException.Reason#REPLAY_CHECK_FAILED} if the replay guard failed: the batch, or
     *     the rest of it, is left for redelivery and checked again then
     */
    public int poll() {
        records.writeKept();
        List<Delivery> deliveries = source.receive(records);
        List<Delivery> toAcknowledge = new ArrayList<>(deliveries.size());
        List<Check> checks = List.of();
        int settled = 0;
        try {
            List<Boolean> finished = records.finished(group, deliveries.stream()
                    .map(delivery -> holder(group, delivery.source(), delivery.id())).toList());
            checks = check(deliveries, finished);
            for (; settled < deliveries.size(); settled++) {
                settle(deliveries.get(settled), checks.get(settled), toAcknowledge);
            }
        } catch (RuntimeException e) {
            List<Delivery> unsettled = deliveries.subList(settled, deliveries.size());
            if (!checks.isEmpty()) {
                release(unsettled, checks.subList(settled, checks.size()).stream().map(Check::leased).toList(), e);
            }
            for (Delivery delivery : unsettled) {
                try {
                    delivery.leaveForRedelivery();
                } catch (RuntimeException again) {
                    e.addSuppressed(again);
                }
            }
            awaitRecords();
            try {
                source.acknowledge(toAcknowledge); // finished and recorded: done, whatever came after
            } catch (RuntimeException again) {
                e.addSuppressed(again); // delivered again, then acknowledged as finished before
            }
            throw e;
        }
        awaitRecords();
        source.acknowledge(toAcknowledge);
        return settled;
    }

    /**
     * Takes the group's lease on every delivery not finished yet and, for each that may still run,
     * makes the transport's and the verifier's checks here and sends the replay check: all in one
     * pipelined round trip for the batch. A replay check sent for a delivery whose lease another worker
     * holds binds the jti to that same message, which the holder's check did already. Rejections are
     * audited here and dead-lettered when settled (unless another worker holds the lease).
     *
     * @throws QueueException {@link QueueException.Reason#REPLAY_CHECK_FAILED} (audited) if the guard
     *     failed on a lease or a replay check; the leases taken are given up first
     */
    private List<Check> check(List<Delivery> deliveries, List<Boolean> finished) {
        Instant until = clock.instant().plus(lease);
        int size = deliveries.size();
        List<@Nullable Reply> leaseReplies = new ArrayList<>(size);
        List<@Nullable Reply> replayReplies = new ArrayList<>(size);
        List<Long> counts = new ArrayList<>(size);
        List<@Nullable Object> verified = new ArrayList<>(size); // Checked, a rejection, or null
        try {
            for (int i = 0; i < size; i++) {
                Delivery delivery = deliveries.get(i);
                leaseReplies.add(finished.get(i) ? null : pipeline.claim(leaseHolder(delivery), until));
                long count = finished.get(i) ? 0 : delivery.deliveryCount();
                counts.add(count);
                Object outcome = null;
                Reply replay = null;
                if (!finished.get(i) && count <= maxDeliveries) {
                    try {
                        delivery.checkUsable();
                        EnvelopeVerifier.Checked checked = verifier.checkAllButReplay(delivery.envelope(),
                                authenticatedService(delivery), holderOf(delivery));
                        replay = pipeline.usedOnlyBy(checked.issuer(), checked.use(group), checked.until(),
                                holderOf(delivery));
                        outcome = checked;
                    } catch (QueueException e) {
                        if (!e.isRejection()) {
                            throw e;
                        }
                        outcome = e;
                    }
                }
                replayReplies.add(replay);
                verified.add(outcome);
            }
        } catch (RuntimeException e) {
            release(deliveries.subList(0, leaseReplies.size()), Answers.of(leaseReplies).taken, e);
            throw e;
        }
        Answers leases = Answers.of(leaseReplies);
        Answers replays = Answers.of(replayReplies);
        try {
            RuntimeException leaseFailure = leases.failure;
            if (leaseFailure != null) {
                throw audit.event(QueueAudit.REPLAY_CHECK_FAILED).field("queue", verifier.queue()).field("group", group)
                        .refused(records.unavailable(leaseFailure));
            }
            List<Check> checks = new ArrayList<>(size);
            for (int i = 0; i < size; i++) {
                RuntimeException failed = replays.failures.get(i);
                Object outcome = verified.get(i);
                if (failed != null && outcome instanceof EnvelopeVerifier.Checked checked) {
                    throw verifier.replayCheckFailed(checked, failed, holderOf(deliveries.get(i)));
                }
                checks.add(finished.get(i) ? FINISHED : new Check(false, leases.taken.get(i), counts.get(i),
                        outcome instanceof EnvelopeVerifier.Checked checked ? checked : null,
                        outcome instanceof QueueException rejection ? rejection : null,
                        replayReplies.get(i) == null ? null : replays.taken.get(i)));
            }
            return checks;
        } catch (RuntimeException e) {
            release(deliveries, leases.taken, e);
            throw e;
        }
    }

    /**
     * Gives up the leases this worker took on {@code deliveries} (where {@code leased}, in the same
     * order), so their redelivery can run at once; what fails is added to {@code cause} (those leases
     * lapse).
     */
    private void release(List<Delivery> deliveries, List<Boolean> leased, RuntimeException cause) {
        List<Reply> replies = new ArrayList<>();
        for (int i = 0; i < deliveries.size(); i++) {
            if (leased.get(i)) {
                replies.add(pipeline.release(leaseHolder(deliveries.get(i))));
            }
        }
        for (Reply reply : replies) {
            try {
                reply.get();
            } catch (RuntimeException again) {
                cause.addSuppressed(again);
            }
        }
    }

    /**
     * Acknowledges a delivery the group finished already (delivered again because the broker lost
     * the acknowledgement or rolled the group back); leaves one another worker holds the lease on for
     * redelivery; dead-letters one delivered too often or refused; handles the others. What is to be
     * acknowledged is added to {@code toAcknowledge}.
     */
    private void settle(Delivery delivery, Check check, List<Delivery> toAcknowledge) {
        if (check.finished()) {
            toAcknowledge.add(delivery);
            return;
        }
        if (!check.leased()) {
            audit.event(QueueAudit.DELIVERY_DEFERRED)
                    .field("queue", verifier.queue()).field("stream", delivery.source()).field("entry", delivery.id())
                    .field("group", group)
                    .refused(new QueueException(QueueException.Reason.IN_PROGRESS, "another worker of group " + group
                            + " holds the lease on this message: it is running it (or died less than its lease"
                            + " ago); left for redelivery, it runs only if that worker does not finish it"));
            delivery.defer();
            return;
        }
        long deliveries = check.deliveries();
        if (deliveries > maxDeliveries) {
            deadLetter(delivery, QueueException.Reason.TOO_MANY_DELIVERIES, "delivered " + deliveries
                    + " times; the handler failed each time (limit " + maxDeliveries + ")", toAcknowledge);
            return;
        }
        QueueException rejection = check.rejection();
        EnvelopeVerifier.Checked checked = check.checked();
        Boolean firstUse = check.firstUse();
        if (rejection == null && checked != null && firstUse != null) {
            try {
                process(delivery, verifier.accept(checked, firstUse, holderOf(delivery)), toAcknowledge);
                return;
            } catch (QueueException e) {
                rejection = e; // REPLAYED, audited
            }
        }
        QueueException refused = Objects.requireNonNull(rejection, "a leased delivery is verified or refused");
        deadLetter(delivery, refused.reason(), String.valueOf(refused.getMessage()), toAcknowledge);
    }

    /**
     * Handles one verified delivery, records it and adds it to {@code toAcknowledge}; a handler that
     * throws gives up the lease and leaves the delivery for redelivery. The replay check that let
     * it through was bound to this message: it passes only if this group's record of the jti is
     * missing or names this very message (a handler that failed, a worker that died, a delivery the
     * broker lost or repeated), never because someone (a consumer that reads without verifying)
     * received it before. The record that the group handled the message is written before the
     * acknowledgement, so a message that is acknowledged is either recorded or was never handled.
     */
    private void process(Delivery delivery, VerifiedMessage message, List<Delivery> toAcknowledge) {
        long start = System.nanoTime();
        try {
            handler.handle(message);
        } catch (Exception e) {
            audit.event(QueueAudit.HANDLER_FAILED)
                    .field("queue", verifier.queue()).field("stream", delivery.source()).field("entry", delivery.id())
                    .field("jti", message.jti()).field("error", e.getClass().getName()).record();
            records.release(leaseHolder(delivery));
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

    /** The name of the group's lease on a message (not the claim of a lost delivery, {@link HandledRecords}). */
    private String leaseHolder(Delivery delivery) {
        return "lease " + holder(group, delivery.source(), delivery.id());
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
     * later): sent at once, its reply awaited with the batch's before the acknowledgements
     * ({@link #awaitRecords()}).
     */
    private void recordFinished(Delivery delivery) {
        long now = clock.millis();
        long time = Math.max(now, delivery.brokerTime().map(Instant::toEpochMilli).orElse(now));
        String holder = holder(group, delivery.source(), delivery.id());
        Instant until = Instant.ofEpochMilli(time).plus(HANDLED_RECORDS);
        sent.add(new SentRecord(delivery, holder, until, pipeline.recordDone(holder, until)));
    }

    /**
     * Waits for the records sent this round. One the guard's Redis refused is kept here and written
     * again at the next poll (audit {@code queue.handled_record_failed}): the message's work is done.
     */
    private void awaitRecords() {
        for (SentRecord record : sent) {
            try {
                record.reply().get();
            } catch (RuntimeException e) {
                records.keep(record.holder(), record.until());
                audit.event(QueueAudit.HANDLED_RECORD_FAILED).field("queue", verifier.queue())
                        .field("stream", record.delivery().source()).field("entry", record.delivery().id())
                        .field("group", group).field("detail", "the replay guard's Redis refused the record that the"
                                + " entry was handled (" + e.getClass().getName() + "); kept in memory and written"
                                + " again at the next poll")
                        .record();
            }
        }
        sent.clear();
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

        /** Writes the records kept in memory, in one round trip; those the guard's Redis still refuses stay. */
        void writeKept() {
            Map<String, Reply> replies = new LinkedHashMap<>();
            unrecorded.forEach((holder, until) -> replies.put(holder, pipeline.recordDone(holder, until)));
            replies.forEach((holder, reply) -> {
                try {
                    reply.get();
                    unrecorded.remove(holder);
                } catch (RuntimeException e) {
                    // kept: written again at the next poll; its failure was audited when it was first kept
                }
            });
        }

        /**
         * Gives up the group's lease on a message ({@code holder}) whose handler failed, so its
         * redelivery runs at once.
         *
         * @throws QueueException {@link QueueException.Reason#REPLAY_CHECK_FAILED} (audited) if the
         *     guard's Redis fails: the lease then lapses by itself
         */
        void release(String holder) {
            try {
                guard.release(holder);
            } catch (RuntimeException e) {
                throw audit.event(QueueAudit.REPLAY_CHECK_FAILED).field("queue", verifier.queue())
                        .field("group", group).refused(unavailable(e));
            }
        }

        /** The refusal when the replay guard's Redis fails on the records of handled messages, or a lease. */
        QueueException unavailable(RuntimeException e) {
            return new QueueException(QueueException.Reason.REPLAY_CHECK_FAILED, "the replay guard's Redis could not"
                    + " read or write the records of handled entries (" + e.getClass().getName() + "); nothing was"
                    + " acknowledged: fix the guard's Redis (reachable, writable, its user allowed SET and MGET)", e);
        }
    }

    /**
     * What a round learned of one delivery before settling it: whether the group finished it, whether
     * this worker took its lease, the broker's count of its deliveries, and, for a leased one it may
     * run, the verified message ({@code checked}, with the replay check's answer {@code firstUse}) or
     * its {@code rejection}.
     */
    private record Check(boolean finished, boolean leased, long deliveries,
                         EnvelopeVerifier.@Nullable Checked checked, @Nullable QueueException rejection,
                         @Nullable Boolean firstUse) {
    }

    /** A record of a finished message sent to the guard, whose reply is still to be read. */
    private record SentRecord(Delivery delivery, String holder, Instant until, Reply reply) {
    }

    /**
     * The answers to pipelined replies, all read (so none is left unread when one failed): {@code taken}
     * per reply (false for none or a failed one), {@code failures} per reply, and the first failure.
     */
    private static final class Answers {
        final List<Boolean> taken;
        final List<@Nullable RuntimeException> failures;
        final @Nullable RuntimeException failure;

        private Answers(List<Boolean> taken, List<@Nullable RuntimeException> failures,
                        @Nullable RuntimeException failure) {
            this.taken = taken;
            this.failures = failures;
            this.failure = failure;
        }

        static Answers of(List<@Nullable Reply> replies) {
            List<Boolean> taken = new ArrayList<>(replies.size());
            List<@Nullable RuntimeException> failures = new ArrayList<>(replies.size());
            RuntimeException first = null;
            for (Reply reply : replies) {
                RuntimeException failed = null;
                boolean answer = false;
                if (reply != null) {
                    try {
                        answer = reply.get();
                    } catch (RuntimeException e) {
                        failed = e;
                        first = first == null ? e : first;
                    }
                }
                taken.add(answer);
                failures.add(failed);
            }
            return new Answers(taken, failures, first);
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
        private Duration lease = DEFAULT_LEASE;

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

        /** The clock for the lifetime of the records of finished messages and of leases. */
        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /**
         * How long a worker holds the group's lease on a message it settles (default 1 min): while it
         * does, another delivery of the same message (same source and ID) to any worker of the group is
         * left for redelivery (audit {@code queue.delivery_deferred}) instead of running a second time.
         * A handler that returns or throws ends it; a worker that dies holds it until it lapses, so the
         * message runs again after this long. Make it longer than the slowest handler (a handler that
         * outlives its lease may run beside a redelivery), and on Redis Streams at most
         * {@code claimAfter}: each delivery refused in the meantime counts towards {@code maxDeliveries}.
         */
        public Builder lease(Duration lease) {
            this.lease = checkLease(lease);
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

        private static Duration checkLease(Duration lease) {
            Objects.requireNonNull(lease, "lease");
            if (lease.compareTo(Duration.ofMillis(1)) < 0) {
                throw Queues.invalid("the lease is at least 1 ms; got " + lease);
            }
            return lease;
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
        private Duration lease = DEFAULT_LEASE;

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

        /** See {@link Builder#lease} (default 1 min). */
        public RedisBuilder lease(Duration lease) {
            this.lease = Builder.checkLease(lease);
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
                    .auditLog(audit).clock(clock).lease(lease).build();
        }
    }
}
