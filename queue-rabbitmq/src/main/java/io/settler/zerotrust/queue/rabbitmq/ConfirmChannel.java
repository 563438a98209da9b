package io.settler.zerotrust.queue.rabbitmq;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import io.settler.zerotrust.audit.AuditLog;
import java.io.IOException;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * A channel in confirm mode that publishes one message at a time and returns only once the broker
 * confirmed it, {@code mandatory}, so a message no queue takes is refused rather than dropped. Every
 * refusal is a {@link RabbitMqException} audited as {@code rabbitmq.publish_refused}. A channel the
 * broker closed (a forged user-id, a missing exchange) is replaced at the next publish.
 *
 * <p>When the connection is lost before the confirm arrives, the broker may or may not have taken
 * the message; when the broker nacks it (a quorum queue without a leader for a moment, or over its
 * length limit), it did not take it. Either way it is published again, with a new {@code message-id},
 * on a new connection if need be (to another node of the cluster), backing off from 50 ms to 1 s,
 * while the confirm timeout since the first attempt has not passed; each retry is audited as
 * {@code rabbitmq.publish_retried}. Two copies may arrive; they carry the same token, so the
 * consumer's replay guard dead-letters the second as {@code REPLAYED} and the job runs once.
 * Thread-safe.
 */
final class ConfirmChannel {

    /** The pause before the first retry, doubled for each further one up to {@link #MAX_PAUSE_MILLIS}. */
    private static final long FIRST_PAUSE_MILLIS = 50;
    private static final long MAX_PAUSE_MILLIS = 1_000;

    private final RabbitMqConnection connection;
    private final String queue;
    private final Duration timeout;
    private final AuditLog audit;
    private @Nullable Channel channel;
    /** The message-id of the last message the broker returned as unroutable. */
    private volatile @Nullable String returned;

    ConfirmChannel(RabbitMqConnection connection, String queue, Duration timeout, AuditLog audit) {
        this.connection = connection;
        this.queue = queue;
        this.timeout = timeout;
        this.audit = audit;
    }

    /**
     * Publishes {@code body} with the properties {@code properties} makes for a fresh
     * {@code message-id}, and waits for the confirm; sends it again, with another
     * {@code message-id}, when the connection was lost first or the broker nacked it.
     *
     * @return the {@code message-id} of the copy the broker confirmed
     * @throws RabbitMqException audited: returned, timed out, the channel failed, or still nacked or
     *     losing its connection after the confirm timeout; {@code CONNECTION_FAILED} if no node took a
     *     new connection
     */
    synchronized String publish(String exchange, String routingKey,
            Function<String, AMQP.BasicProperties> properties, byte[] body) {
        String destination = destination(exchange, routingKey);
        long deadline = System.nanoTime() + timeout.toNanos();
        long pause = FIRST_PAUSE_MILLIS;
        for (int attempt = 1; ; attempt++) {
            String messageId = UUID.randomUUID().toString();
            Failure failure = publishOnce(exchange, routingKey, properties.apply(messageId), body);
            if (failure == null) {
                return messageId;
            }
            boolean nacked = failure.refusal().reason() == RabbitMqException.Reason.NOT_CONFIRMED;
            if (!(failure.connectionLost() || nacked) || System.nanoTime() - deadline > 0) {
                throw audit.event(RabbitMqAudit.PUBLISH_REFUSED).field("queue", queue)
                        .field("destination", destination).field("message_id", messageId).refused(failure.refusal());
            }
            audit.event(RabbitMqAudit.PUBLISH_RETRIED).field("queue", queue).field("destination", destination)
                    .field("message_id", messageId).field("detail", (nacked ? "the broker nacked it" : "the connection"
                            + " was lost before the confirm") + " (" + RabbitMqConnections.describe(failure.refusal())
                            + "); sent again, attempt " + (attempt + 1)).record();
            try {
                Thread.sleep(pause);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw audit.event(RabbitMqAudit.PUBLISH_REFUSED).field("queue", queue)
                        .field("destination", destination).field("message_id", messageId).refused(failure.refusal());
            }
            pause = Math.min(2 * pause, MAX_PAUSE_MILLIS);
        }
    }

    /** A publish not confirmed: the refusal (not audited yet), and whether its channel's connection was lost. */
    private record Failure(RabbitMqException refusal, boolean connectionLost) {
    }

    /**
     * One publish and its confirm: null once confirmed, else the failure. The connection counts as
     * lost when the one the channel was on is closed (another thread may have opened a new one since).
     */
    private @Nullable Failure publishOnce(String exchange, String routingKey, AMQP.BasicProperties properties,
            byte[] body) {
        String destination = destination(exchange, routingKey);
        @Nullable Channel open = null;
        boolean confirmed;
        try {
            open = channel();
            open.basicPublish(exchange, routingKey, true, properties, body);
            confirmed = open.waitForConfirms(timeout.toMillis());
        } catch (RabbitMqException e) {
            throw e; // no node took a new connection: audited by RabbitMqConnections
        } catch (TimeoutException e) {
            return new Failure(new RabbitMqException(RabbitMqException.Reason.CONFIRM_TIMEOUT, "the broker did not"
                    + " confirm within " + timeout + "; the message may still arrive (the consumer's replay check"
                    + " keeps it from running twice if it is sent again): check the broker's health and load", e),
                    lost(open, e));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Failure(new RabbitMqException(RabbitMqException.Reason.CONFIRM_TIMEOUT, "interrupted while"
                    + " waiting for the confirm; the message may still arrive", e), false);
        } catch (IOException | RuntimeException e) {
            return new Failure(new RabbitMqException(RabbitMqException.Reason.CHANNEL_FAILED, "the channel failed ("
                    + RabbitMqConnections.describe(e) + "): check that the exchange exists and "
                    + connection.identity() + " may write to it", e), lost(open, e));
        }
        if (!confirmed) {
            return new Failure(new RabbitMqException(RabbitMqException.Reason.NOT_CONFIRMED, "the broker nacked the"
                    + " message (a queue over its length limit, or a replica failure): it was not taken; publish"
                    + " it again later", null), false);
        }
        if (properties.getMessageId().equals(returned)) {
            return new Failure(new RabbitMqException(RabbitMqException.Reason.NOT_ROUTED, "no queue took the message"
                    + " sent to " + destination + ": the queue or its binding is missing; run the setup step"
                    + " (RabbitMqTransport.declare) as the operator, then publish again", null), false);
        }
        return null;
    }

    /**
     * Whether the connection {@code channel} was on is lost: closed, or its socket failed (it may not
     * know it is closed yet); true when there was no channel to publish on.
     */
    private static boolean lost(@Nullable Channel channel, Exception failure) {
        return channel == null || !channel.getConnection().isOpen() || RabbitMqConnections.isTransient(failure);
    }

    /** How audit events and messages name an exchange and routing key. */
    static String destination(String exchange, String routingKey) {
        return (exchange.isEmpty() ? "(default exchange)" : exchange) + "/" + routingKey;
    }

    /** The confirm channel, opened (again, on a new connection if it was lost) when missing or closed. */
    private Channel channel() throws IOException {
        Channel current = channel;
        if (current != null && current.isOpen()) {
            return current;
        }
        Channel fresh = connection.createChannel();
        fresh.confirmSelect();
        fresh.addReturnListener(message -> returned = message.getProperties().getMessageId());
        channel = fresh;
        return fresh;
    }
}
