package io.settler.zerotrust.queue.rabbitmq;

import com.rabbitmq.client.AMQP;
import io.settler.zerotrust.queue.Envelope;
import io.settler.zerotrust.queue.EnvelopeSender;
import java.util.Map;

/**
 * Publishes envelopes through a {@link ConfirmChannel}: the payload as the body, the token and
 * version as headers, persistent, a random {@code message-id}, and the connection's identity as the
 * {@code user-id}, which the broker checks against the login.
 */
final class RabbitMqSender implements EnvelopeSender {

    private final RabbitMqConnection connection;
    private final String queue;
    private final String exchange;
    private final String routingKey;
    private final ConfirmChannel channel;

    RabbitMqSender(RabbitMqTransport.SenderBuilder builder) {
        this.connection = builder.connection;
        this.queue = builder.queue;
        this.exchange = builder.exchange;
        this.routingKey = builder.routingKey;
        this.channel = new ConfirmChannel(connection, queue, builder.confirmTimeout, builder.audit);
    }

    @Override
    public String queue() {
        return queue;
    }

    @Override
    public String destination() {
        return ConfirmChannel.destination(exchange, routingKey);
    }

    /**
     * Returns {@code <user-id> <message-id>}, the ID the consumer's deliveries of it carry. When the
     * connection is lost before the confirm, the envelope is sent again on a new connection with a
     * new {@code message-id} (audited as {@code rabbitmq.publish_retried}); should both copies arrive,
     * the replay guard dead-letters the later one, as they carry the same token.
     *
     * @throws RabbitMqException (audited) if the broker did not confirm it
     */
    @Override
    public String send(Envelope envelope) {
        Map<String, Object> headers = Map.of(RabbitMqTransport.VERSION_HEADER, "1",
                RabbitMqTransport.TOKEN_HEADER, envelope.token());
        String messageId = channel.publish(exchange, routingKey, id -> new AMQP.BasicProperties.Builder()
                .deliveryMode(2)
                .userId(connection.identity())
                .messageId(id)
                .contentType("application/octet-stream")
                .headers(headers)
                .build(), envelope.payload());
        return RabbitMqDelivery.id(connection.identity(), messageId);
    }

    @Override
    public String toString() {
        return "RabbitMqSender[" + destination() + " as " + connection.identity() + "]";
    }
}
