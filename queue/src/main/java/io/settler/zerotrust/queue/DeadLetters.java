package io.settler.zerotrust.queue;

import io.lettuce.core.Range;
import io.lettuce.core.StreamMessage;
import io.lettuce.core.api.sync.RedisStreamCommands;
import io.settler.zerotrust.audit.AuditLog;
import io.settler.zerotrust.audit.LogSafe;
import io.settler.zerotrust.redis.RedisAcl;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * The dead letters of a queue ({@link RedisAcl#deadLetterKey}), for an operator: replays a genuine
 * message that was refused, as a fresh signed envelope through the normal publisher.
 *
 * <pre>{@code
 * DeadLetters deadLetters = DeadLetters.builder(operatorRedis, verifier).build(); // operator: XRANGE on queue:*
 * String entry = deadLetters.replay("1765000000000-0", publisher);  // the dead letter's ID
 * }</pre>
 *
 * <p>A dead letter keeps the message (the envelope's {@code v}, {@code tok}, {@code pld} fields)
 * only when the message may be genuine: {@code EXPIRED} (e.g. a publisher whose clock ran ahead),
 * {@code TOO_MANY_DELIVERIES} (replay it once the handler is fixed) and {@code POISONED}. Forged,
 * tampered, malformed, replayed and misdirected messages keep only metadata and cannot be
 * replayed. Before replaying, the envelope is verified again as the consumer would (signature,
 * publisher, scope, payload digest) except for the token's validity window: so a dead letter
 * written with a worker's credentials cannot make a publisher sign a payload it never sent.
 * Each replay publishes again: replay a dead letter once (audit {@code queue.dead_letter_replayed}
 * says which were).
 */
public final class DeadLetters {

    private static final Set<QueueException.Reason> KEEP_MESSAGE = EnumSet.of(QueueException.Reason.EXPIRED,
            QueueException.Reason.TOO_MANY_DELIVERIES, QueueException.Reason.POISONED);

    private final RedisStreamCommands<String, String> redis;
    private final EnvelopeVerifier verifier;
    private final String key;
    private final AuditLog audit;

    private DeadLetters(Builder builder) {
        this.redis = builder.redis;
        this.verifier = builder.verifier;
        this.key = RedisAcl.deadLetterKey(verifier.queue());
        this.audit = builder.audit;
    }

    /**
     * Starts the dead letters of {@code verifier}'s queue, read with {@code redis} (an operator's
     * connection: {@code XRANGE} on the queue's keys).
     */
    public static Builder builder(RedisStreamCommands<String, String> redis, EnvelopeVerifier verifier) {
        return new Builder(redis, verifier);
    }

    /** Whether a dead letter of this reason keeps the message, so it can be replayed. */
    public static boolean keepsMessage(QueueException.Reason reason) {
        return KEEP_MESSAGE.contains(reason);
    }

    /**
     * Verifies the message kept in dead letter {@code id} and publishes its payload again with
     * {@code publisher}, which must write to the stream the message came from.
     *
     * @return the new stream entry ID
     * @throws QueueException {@code NOT_REPLAYABLE} (no such dead letter, no message kept, another
     *     publisher's stream), or the rejection found when verifying ({@code FORGED},
     *     {@code TAMPERED}, ...); each audited as {@code queue.replay_refused}
     */
    public String replay(String id, QueuePublisher publisher) {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(publisher, "publisher");
        List<StreamMessage<String, String>> found = redis.xrange(key, Range.create(id, id));
        if (found.isEmpty()) {
            throw replayRefusal(id).refused(new QueueException(QueueException.Reason.NOT_REPLAYABLE, "there is no"
                    + " dead letter " + LogSafe.text(id) + " in " + key));
        }
        Map<String, String> letter = found.get(0).getBody();
        String stream = letter.getOrDefault("stream", "");
        if (!letter.containsKey(Envelope.TOKEN_FIELD)) {
            throw replayRefusal(id).refused(new QueueException(QueueException.Reason.NOT_REPLAYABLE, "dead letter "
                    + LogSafe.text(id) + " (" + LogSafe.text(String.valueOf(letter.get("reason"))) + ") kept no"
                    + " message: only " + KEEP_MESSAGE + " keep theirs; ask the publisher to send it again if it is"
                    + " genuine"));
        }
        if (!stream.equals(publisher.destination())) {
            throw replayRefusal(id).refused(new QueueException(QueueException.Reason.NOT_REPLAYABLE, "dead letter "
                    + LogSafe.text(id) + " came from " + LogSafe.text(stream) + "; replay it with the publisher of"
                    + " that stream, not " + publisher.destination()));
        }
        String owner = verifier.publishers().values().stream()
                .filter(service -> RedisAcl.streamKey(verifier.queue(), service).equals(stream)).findFirst()
                .orElseThrow(() -> replayRefusal(id).refused(new QueueException(
                        QueueException.Reason.NOT_REPLAYABLE, LogSafe.text(stream)
                        + " is not the stream of a publisher this verifier allows")));
        VerifiedMessage original;
        try {
            Map<String, String> fields = new LinkedHashMap<>();
            Envelope.FIELDS.stream().filter(letter::containsKey).forEach(field -> fields.put(field, letter.get(field)));
            original = verifier.verifyForReplay(Envelope.fromFields(fields), owner);
        } catch (QueueException e) {
            throw replayRefusal(id).refused(e);
        }
        String entry = publisher.publish(original.payload());
        audit.event(QueueAudit.DEAD_LETTER_REPLAYED)
                .field("queue", verifier.queue()).field("dead_letter", id)
                .field("reason", LogSafe.text(String.valueOf(letter.get("reason"))))
                .field("stream", stream).field("original_entry", LogSafe.text(String.valueOf(letter.get("entry"))))
                .field("original_jti", LogSafe.text(original.jti())).field("entry", entry).record();
        return entry;
    }

    /** A {@code queue.replay_refused} event about dead letter {@code id}, to be completed by {@code refused(e)}. */
    private AuditLog.Entry replayRefusal(String id) {
        return audit.event(QueueAudit.REPLAY_REFUSED).field("queue", verifier.queue())
                .field("dead_letter", LogSafe.text(id));
    }

    @Override
    public String toString() {
        return "DeadLetters[" + key + "]";
    }

    /** Settings of {@link DeadLetters}. */
    public static final class Builder {
        private final RedisStreamCommands<String, String> redis;
        private final EnvelopeVerifier verifier;
        private AuditLog audit = AuditLog.slf4j();

        private Builder(RedisStreamCommands<String, String> redis, EnvelopeVerifier verifier) {
            this.redis = Objects.requireNonNull(redis, "redis");
            this.verifier = Objects.requireNonNull(verifier, "verifier");
        }

        /** Where replays and refused replays are recorded (default SLF4J). */
        public Builder auditLog(AuditLog audit) {
            this.audit = Objects.requireNonNull(audit, "audit");
            return this;
        }

        /** The dead letters. */
        public DeadLetters build() {
            return new DeadLetters(this);
        }
    }
}
