package io.settler.zerotrust.queue.rabbitmq;

import static io.settler.zerotrust.audit.AuditEvent.Outcome.REFUSED;

import io.settler.zerotrust.audit.AuditAction;

/**
 * The audit catalogue of the queue-rabbitmq module: connections and settings refused, publishes the
 * broker did not confirm, and messages the source refused before the consumer saw them.
 */
@SuppressWarnings("ImmutableEnumChecker") // Definition is a record of strings and List.copyOf lists
public enum RabbitMqAudit implements AuditAction {

    /** A connection setting or a connection to the broker was refused. */
    CONNECTION_REFUSED(AuditAction.define("rabbitmq.connection_refused", REFUSED, "zerotrust.rabbitmq.connections")
            .fields("server", "identity", "reason", "detail").tags("reason")
            .describe("A RabbitMQ connection setting (a context that allows TLS 1.2, a server context, a"
                    + " certificate without a SPIFFE ID, a sender whose connection is not its signer's publisher)"
                    + " or a connection (TLS handshake, EXTERNAL login, virtual host) was refused: detail says what"
                    + " to fix.")),
    /** The broker did not confirm a publish: nothing may be assumed sent. */
    PUBLISH_REFUSED(AuditAction.define("rabbitmq.publish_refused", REFUSED, "zerotrust.rabbitmq.publishes")
            .fields("queue", "destination", "message_id", "reason", "detail").tags("queue", "reason")
            .describe("A publish was not confirmed: the broker nacked it, no queue took it (missing queue or"
                    + " binding), the confirm timed out or the channel failed; publish again once the cause is"
                    + " fixed (a timed-out message may still arrive: the consumer's replay check stops a second"
                    + " run).")),
    /** A source could not read its quorum queue. */
    RECEIVE_FAILED(AuditAction.define("rabbitmq.receive_failed", REFUSED, "zerotrust.rabbitmq.messages")
            .fields("queue", "group", "reason", "detail").tags("queue", "reason")
            .describe("A worker could not read its group's quorum queue (missing, or no read permission); nothing"
                    + " was delivered: run the setup step (RabbitMqTransport.declare) or fix the permissions.")),
    /** A message without a validated publisher was dead-lettered by the source, never handed to the consumer. */
    MESSAGE_UNAUTHENTICATED(AuditAction.define("rabbitmq.message_unauthenticated", REFUSED,
                    "zerotrust.rabbitmq.messages")
            .fields("queue", "source", "group", "reason", "detail").tags("queue", "reason")
            .describe("A message carried no user-id (RabbitMQ validates it only when set) or no message-id, so"
                    + " its publisher or its identity is unknown; it was dead-lettered unread: find who publishes"
                    + " without the library's sender."));

    private final Definition definition;

    RabbitMqAudit(Definition definition) {
        this.definition = definition;
    }

    @Override
    public Definition definition() {
        return definition;
    }
}
