package io.settler.zerotrust.queue.rabbitmq;

import static io.settler.zerotrust.audit.AuditEvent.Outcome.INFO;
import static io.settler.zerotrust.audit.AuditEvent.Outcome.REFUSED;
import static io.settler.zerotrust.audit.AuditEvent.Outcome.WARNING;

import io.settler.zerotrust.audit.AuditAction;

/**
 * The audit catalogue of the queue-rabbitmq module: connections and settings refused, connections
 * retried and replaced after a node failed, publishes the broker did not confirm (and those sent
 * again after a lost connection), and messages the source refused before the consumer saw them.
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
    /** No node took a connection this round (down, or its virtual host restarting): tried again. */
    CONNECTION_RETRIED(AuditAction.define("rabbitmq.connection_retried", WARNING, "zerotrust.rabbitmq.failovers")
            .fields("server", "identity", "round", "detail")
            .describe("Every node of the cluster was down, unreachable or refused the login for a moment with"
                    + " INTERNAL_ERROR (a virtual host restarting after another member stopped); the connection is"
                    + " tried again, backing off, until the reconnect timeout (then rabbitmq.connection_refused):"
                    + " detail names each node's failure.")),
    /** A lost connection was replaced by a new one, to the node named. */
    RECONNECTED(AuditAction.define("rabbitmq.reconnected", INFO, "zerotrust.rabbitmq.failovers")
            .fields("server", "identity", "name")
            .describe("A connection was lost (its node stopped, the network failed or the broker closed it) and"
                    + " the next call opened a new one, verified and logged in again, to the node in server; the"
                    + " broker delivers what was not acknowledged again.")),
    /** A publish whose confirm was lost with its connection, or that the broker nacked, was sent again. */
    PUBLISH_RETRIED(AuditAction.define("rabbitmq.publish_retried", WARNING, "zerotrust.rabbitmq.publish_retries")
            .fields("queue", "destination", "message_id", "detail").tags("queue")
            .describe("The connection was lost before the broker confirmed a publish, or the broker nacked it (a"
                    + " quorum queue without a leader for a moment), so the same envelope was sent again with a"
                    + " new message-id, on a new connection if need be; if the first copy arrived too, the"
                    + " consumer's replay guard dead-letters the second as REPLAYED, never runs it twice.")),
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
            .describe("A worker could not read its group's quorum queue (missing, no read permission, or the"
                    + " connection lost), or the channel of a delivery closed before it was handled; nothing more of"
                    + " the batch is handled there (the broker delivers it again): run the setup step"
                    + " (RabbitMqTransport.declare) or fix the permissions; a lost connection is opened again.")),
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
