package io.settler.zerotrust.queue.rabbitmq;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import io.settler.zerotrust.audit.AuditLog;
import java.io.IOException;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.TimeoutException;
import org.jspecify.annotations.Nullable;

/**
 * A channel in confirm mode that publishes one message at a time and returns only once the broker
 * confirmed it, {@code mandatory}, so a message no queue takes is refused rather than dropped. Every
 * refusal is a {@link RabbitMqException} audited as {@code rabbitmq.publish_refused}. A channel the
 * broker closed (a forged user-id, a missing exchange) is replaced at the next publish. Thread-safe.
 */
final class ConfirmChannel {

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
     * Publishes {@code body} with {@code properties} (whose {@code message-id} must be set) and waits
     * for the confirm.
     *
     * @throws RabbitMqException audited: nacked, returned, timed out, or the channel failed
     */
    synchronized void publish(String exchange, String routingKey, AMQP.BasicProperties properties, byte[] body) {
        String messageId = Objects.requireNonNull(properties.getMessageId(), "message-id");
        String destination = destination(exchange, routingKey);
        boolean confirmed;
        try {
            Channel open = channel();
            open.basicPublish(exchange, routingKey, true, properties, body);
            confirmed = open.waitForConfirms(timeout.toMillis());
        } catch (TimeoutException e) {
            throw refused(destination, messageId, RabbitMqException.Reason.CONFIRM_TIMEOUT, "the broker did not"
                    + " confirm within " + timeout + "; the message may still arrive (the consumer's replay check"
                    + " keeps it from running twice if it is sent again): check the broker's health and load", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw refused(destination, messageId, RabbitMqException.Reason.CONFIRM_TIMEOUT, "interrupted while"
                    + " waiting for the confirm; the message may still arrive", e);
        } catch (IOException | RuntimeException e) {
            throw refused(destination, messageId, RabbitMqException.Reason.CHANNEL_FAILED, "the channel failed ("
                    + RabbitMqConnections.describe(e) + "): check that the exchange exists and "
                    + connection.identity() + " may write to it", e);
        }
        if (!confirmed) {
            throw refused(destination, messageId, RabbitMqException.Reason.NOT_CONFIRMED, "the broker nacked the"
                    + " message (a queue over its length limit, or a replica failure): it was not taken; publish"
                    + " it again later", null);
        }
        if (messageId.equals(returned)) {
            throw refused(destination, messageId, RabbitMqException.Reason.NOT_ROUTED, "no queue took the message"
                    + " sent to " + destination + ": the queue or its binding is missing; run the setup step"
                    + " (RabbitMqTransport.declare) as the operator, then publish again", null);
        }
    }

    /** How audit events and messages name an exchange and routing key. */
    static String destination(String exchange, String routingKey) {
        return (exchange.isEmpty() ? "(default exchange)" : exchange) + "/" + routingKey;
    }

    /** The confirm channel, opened (again) when missing or closed by the broker. */
    private Channel channel() throws IOException {
        Channel current = channel;
        if (current != null && current.isOpen()) {
            return current;
        }
        Channel fresh = connection.connection().createChannel();
        if (fresh == null) {
            throw new IOException("the connection has no channel left (channel-max reached)");
        }
        fresh.confirmSelect();
        fresh.addReturnListener(message -> returned = message.getProperties().getMessageId());
        channel = fresh;
        return fresh;
    }

    private RabbitMqException refused(String destination, String messageId, RabbitMqException.Reason reason,
            String message, @Nullable Throwable cause) {
        return audit.event(RabbitMqAudit.PUBLISH_REFUSED).field("queue", queue).field("destination", destination)
                .field("message_id", messageId).refused(new RabbitMqException(reason, message, cause));
    }
}
