package io.settler.zerotrust.queue;

import static io.settler.zerotrust.audit.AuditEvent.Outcome.ALLOWED;
import static io.settler.zerotrust.audit.AuditEvent.Outcome.REFUSED;
import static io.settler.zerotrust.audit.AuditEvent.Outcome.WARNING;

import io.settler.zerotrust.audit.AuditAction;

/**
 * The audit catalogue of the queue module: messages handled, rejected and dead-lettered, the
 * health of streams and consumer groups, the replay guard, and replays of dead letters.
 */
@SuppressWarnings("ImmutableEnumChecker") // Definition is a record of strings and List.copyOf lists
public enum QueueAudit implements AuditAction {

    /** A consumer handled a verified message and acknowledged it. */
    MESSAGE_HANDLED(AuditAction.define("queue.message_handled", ALLOWED, "zerotrust.queue.messages")
            .level(Level.DEBUG)
            .fields("queue", "stream", "entry", "group", "jti").tags("queue", "group", "reason")
            .describe("A consumer verified a message, its handler returned and the entry was acknowledged;"
                    + " routine, logged only at DEBUG.")),
    /** A consumer wrote an entry to the dead-letter stream and acknowledged it. */
    DEAD_LETTERED(AuditAction.define("queue.dead_lettered", REFUSED, "zerotrust.queue.messages")
            .fields("queue", "stream", "entry", "group", "reason").tags("queue", "group", "reason")
            .describe("An entry was refused (reason) or its handler kept failing, and was moved to the queue's"
                    + " dead-letter stream: see the README's table of reasons; replay genuine ones with DeadLetters.")),
    /** A handler threw; the entry stays pending and is retried after claimAfter. */
    HANDLER_FAILED(AuditAction.define("queue.handler_failed", WARNING, "zerotrust.queue.messages")
            .fields("queue", "stream", "entry", "jti", "error").tags("queue", "group", "reason")
            .describe("The application's handler threw; the entry stays pending, is retried after claimAfter and"
                    + " dead-lettered after maxDeliveries: fix the handler.")),
    /** Another worker of the group holds the lease on a message; this delivery of it is left for redelivery. */
    DELIVERY_DEFERRED(AuditAction.define("queue.delivery_deferred", REFUSED, "zerotrust.queue.deferrals")
            .fields("queue", "stream", "entry", "group", "reason", "detail").tags("queue", "group")
            .describe("A second delivery of a message another worker of the group is running (or died running,"
                    + " less than the lease ago) was left for redelivery instead of running twice: a broker that"
                    + " requeued it, or two copies with one message ID; many of them for one publisher mean it"
                    + " sends copies.")),
    /** The verifier refused a message. */
    MESSAGE_REJECTED(AuditAction.define("queue.message_rejected", REFUSED, "zerotrust.queue.verifications")
            .fields("queue", "entry", "reason", "detail").tags("queue", "reason")
            .describe("A message failed verification (forged, tampered, replayed, expired, wrong scope, queue or"
                    + " publisher, malformed); a consumer dead-letters it, and verify(Envelope) throws it.")),
    /** The replay guard's Redis failed; the entries stay pending. */
    REPLAY_CHECK_FAILED(AuditAction.define("queue.replay_check_failed", REFUSED, "zerotrust.queue.guard_failures")
            .fields("queue", "group", "entry", "reason", "detail").tags("queue", "group")
            .describe("The replay guard's Redis could not be read or written; nothing was accepted or acknowledged"
                    + " and the entries are checked again when reclaimed: make that Redis reachable and writable.")),
    /** The record that an entry was handled could not be written; it is kept in memory and written again. */
    HANDLED_RECORD_FAILED(AuditAction.define("queue.handled_record_failed", WARNING,
                    "zerotrust.queue.guard_failures")
            .fields("queue", "stream", "entry", "group", "detail").tags("queue", "group")
            .describe("The replay guard's Redis refused the record that an entry was handled; the worker keeps it"
                    + " in memory and writes it at its next poll: check that Redis.")),
    /** An entry ID lies too far in the future. */
    STREAM_POISONED(AuditAction.define("queue.stream_poisoned", WARNING, "zerotrust.queue.stream_alerts")
            .fields("queue", "stream", "entry", "reason", "detail").tags("queue", "group")
            .describe("A stream entry has an ID more than maxFutureSkew ahead, which blocks the stream: inspect and"
                    + " delete the stream, and check who holds the publisher's credentials.")),
    /** Someone else trimmed or deleted entries of a stream. */
    STREAM_SHRANK(AuditAction.define("queue.stream_shrank", WARNING, "zerotrust.queue.stream_alerts")
            .fields("queue", "stream", "group", "lost", "length", "detail").tags("queue", "group")
            .describe("Someone other than the workers trimmed or deleted stream entries; 'lost' counts those the"
                    + " group had not handled, which will never run: find who holds the publisher's credentials.")),
    /** Redis lost deliveries of a group; they are run again. */
    DELIVERIES_LOST(AuditAction.define("queue.deliveries_lost", WARNING, "zerotrust.queue.stream_alerts")
            .fields("queue", "stream", "group", "lost", "first", "detail").tags("queue", "group")
            .describe("Redis lost deliveries of a group (e.g. an AOF reload the default user's ACL refused); they"
                    + " are delivered again: give the default user the ACL RedisAcl renders.")),
    /** The consumer group is missing. */
    GROUP_MISSING(AuditAction.define("queue.group_missing", REFUSED, "zerotrust.queue.stream_alerts")
            .fields("queue", "group", "stream", "reason", "detail").tags("queue", "group")
            .describe("The consumer group is missing (Redis restarted without persistence, or setup never ran):"
                    + " find out whether messages were lost, then run QueueConsumer.createGroup.")),
    /** A publisher's stream is missing; nothing was published. */
    STREAM_MISSING(AuditAction.define("queue.stream_missing", REFUSED, "zerotrust.queue.publishes")
            .fields("queue", "stream", "reason", "detail").tags("queue")
            .describe("A publisher's stream does not exist (Redis lost it, or setup never ran); nothing was"
                    + " published and it is not re-created: check for lost messages, then run the setup step.")),
    /** An operator replayed a dead letter. */
    DEAD_LETTER_REPLAYED(AuditAction.define("queue.dead_letter_replayed", ALLOWED, "zerotrust.queue.replays")
            .fields("queue", "dead_letter", "reason", "stream", "original_entry", "original_jti", "entry")
            .tags("queue", "reason")
            .describe("An operator published a dead-lettered message again as a new message: replay each dead"
                    + " letter once, then delete it.")),
    /** A dead letter could not be replayed. */
    REPLAY_REFUSED(AuditAction.define("queue.replay_refused", REFUSED, "zerotrust.queue.replays")
            .fields("queue", "dead_letter", "reason", "detail").tags("queue", "reason")
            .describe("A dead letter was not replayed: it kept no message, is missing, belongs to another"
                    + " publisher, or its envelope failed verification (possibly faked with a worker's password)."));

    private final Definition definition;

    QueueAudit(Definition definition) {
        this.definition = definition;
    }

    @Override
    public Definition definition() {
        return definition;
    }
}
