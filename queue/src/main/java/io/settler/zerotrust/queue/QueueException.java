package io.settler.zerotrust.queue;

import io.settler.zerotrust.audit.Refusal;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * A message refused by a consumer, or a queue that cannot be used safely. {@link #reason()} says
 * which; the message says what to fix. Rejections carry no stack trace, so a flood stays cheap.
 */
public final class QueueException extends RuntimeException implements Refusal {

    private static final long serialVersionUID = 1L;

    /** Why. The first group are message rejections ({@link #isRejection()}); the rest concern the queue. */
    public enum Reason {
        /** Not an envelope: fields missing or extra, bad encoding, a payload over the limit, an unparsable token. */
        MALFORMED,
        /** Signed by a key the verifier does not know, or the signature does not verify. */
        FORGED,
        /** The payload is not the one the token's {@code pld} digest was minted for. */
        TAMPERED,
        /** The token's {@code jti} was already used by another message. */
        REPLAYED,
        /** The token expired, is not valid yet, or lives longer than the verifier accepts. */
        EXPIRED,
        /** The token does not carry {@code queue:<name>:publish}. */
        WRONG_SCOPE,
        /** The token is for another queue (audience). */
        WRONG_QUEUE,
        /** The issuer may not publish to this queue, or wrote into another publisher's stream. */
        WRONG_PUBLISHER,
        /** The handler failed on every one of the allowed deliveries. */
        TOO_MANY_DELIVERIES,
        /** A stream entry with an ID far in the future (it would block every later publish). */
        POISONED,
        /**
         * The replay guard failed (its Redis unreachable, read-only, or refusing the guard's user):
         * the message was neither accepted nor rejected; a consumer leaves it pending, so it is
         * checked again when reclaimed.
         */
        REPLAY_CHECK_FAILED,
        /**
         * Another worker of the group holds the lease on the message: it is running it, or died less
         * than the lease ago. Not a rejection: the delivery is left for redelivery (audit
         * {@code queue.delivery_deferred}) and runs only if that worker does not finish the message.
         */
        IN_PROGRESS,
        /** The consumer group does not exist (e.g. Redis restarted without persistence): run the setup step. */
        NO_GROUP,
        /**
         * The stream a publisher writes to does not exist (Redis lost it, or the setup step never
         * ran): the publisher does not re-create it without its consumer group; run the setup step.
         */
        NO_STREAM,
        /**
         * A dead letter that cannot be replayed: it kept no message (only metadata, e.g. for a forged
         * or tampered one), it is missing, or it belongs to another publisher's stream.
         */
        NOT_REPLAYABLE,
        /** The queue, signer, verifier or consumer is configured wrongly. */
        INVALID_CONFIGURATION;

        /** Whether this reason refuses a single message (dead-lettered) rather than the queue. */
        public boolean isRejection() {
            return compareTo(POISONED) <= 0;
        }
    }

    private final Reason reason;

    QueueException(Reason reason, String message) {
        super(message, null, false, false);
        this.reason = Objects.requireNonNull(reason, "reason");
    }

    QueueException(Reason reason, String message, @Nullable Throwable cause) {
        super(message, cause);
        this.reason = Objects.requireNonNull(reason, "reason");
    }

    /** Why. */
    @Override
    public Reason reason() {
        return reason;
    }

    /** Whether a single message was refused (rather than the queue being unusable). */
    public boolean isRejection() {
        return reason.isRejection();
    }
}
