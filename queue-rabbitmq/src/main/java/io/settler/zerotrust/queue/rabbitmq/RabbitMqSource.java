package io.settler.zerotrust.queue.rabbitmq;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.GetResponse;
import com.rabbitmq.client.LongString;
import io.settler.zerotrust.audit.AuditLog;
import io.settler.zerotrust.queue.Delivery;
import io.settler.zerotrust.queue.DeliverySource;
import io.settler.zerotrust.queue.HandledRecords;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.jspecify.annotations.Nullable;

/**
 * Deliveries from one quorum queue: up to a batch of {@code basic.get} with manual acknowledgement
 * per round, so nothing waits in a client buffer and {@link #receive} never blocks for long. A
 * message without a {@code user-id} or {@code message-id} is dead-lettered here and acknowledged,
 * never handed to the consumer: RabbitMQ validates the {@code user-id} only when it is set, so
 * without it the publisher is unknown. Dead letters are published through the group's dead-letter
 * exchange to its dead-letter queue with their reason, confirmed, before the delivery is
 * acknowledged. Not thread-safe.
 */
final class RabbitMqSource implements DeliverySource {

    private final RabbitMqConnection connection;
    private final String queue;
    private final String amqpQueue;
    private final String deadLetterQueue;
    private final int batchSize;
    private final AuditLog audit;
    private final ConfirmChannel deadLetters;
    private @Nullable Channel channel;

    RabbitMqSource(RabbitMqTransport.SourceBuilder builder, String amqpQueue) {
        this.connection = builder.connection;
        this.queue = builder.verifier.queue();
        this.amqpQueue = amqpQueue;
        this.deadLetterQueue = RabbitMqTransport.deadLetterQueue(amqpQueue);
        this.batchSize = builder.batchSize;
        this.audit = builder.audit;
        this.deadLetters = new ConfirmChannel(connection, queue, builder.confirmTimeout, builder.audit);
    }

    @Override
    public String queue() {
        return queue;
    }

    /** The quorum queue this group reads: one queue per consumer group. */
    @Override
    public String group() {
        return amqpQueue;
    }

    /**
     * Up to a batch of messages; RabbitMQ hands a redelivery out like a new message (its
     * {@code x-delivery-count} raised), so there is nothing to reclaim and {@code records} is not read.
     *
     * @throws RabbitMqException {@link RabbitMqException.Reason#CHANNEL_FAILED} (audited as
     *     {@code rabbitmq.receive_failed}) if the queue is missing or the worker may not read it
     */
    @Override
    public List<Delivery> receive(HandledRecords records) {
        List<Delivery> deliveries = new ArrayList<>();
        try {
            Channel open = channel();
            while (deliveries.size() < batchSize) {
                GetResponse response = open.basicGet(amqpQueue, false);
                if (response == null) {
                    break;
                }
                AMQP.BasicProperties properties = response.getProps();
                String userId = properties.getUserId();
                String messageId = properties.getMessageId();
                if (userId == null || userId.isBlank() || messageId == null || messageId.isBlank()) {
                    refuseUnauthenticated(open, response, userId == null || userId.isBlank() ? "no user-id"
                            : "no message-id");
                    continue;
                }
                deliveries.add(new RabbitMqDelivery(this, open, response, userId, messageId));
            }
        } catch (IOException | RuntimeException e) {
            for (Delivery delivery : deliveries) {
                try {
                    delivery.leaveForRedelivery();
                } catch (RuntimeException again) {
                    e.addSuppressed(again); // a closed channel returns them to the queue anyway
                }
            }
            if (e instanceof RabbitMqException refusal) {
                throw refusal; // a dead letter not confirmed: audited already
            }
            throw audit.event(RabbitMqAudit.RECEIVE_FAILED).field("queue", queue).field("group", amqpQueue)
                    .refused(new RabbitMqException(RabbitMqException.Reason.CHANNEL_FAILED, "could not read quorum"
                            + " queue " + amqpQueue + " (" + RabbitMqConnections.describe(e) + "): check that the"
                            + " setup step declared it (RabbitMqTransport.declare) and that " + connection.identity()
                            + " may read it", e));
        }
        return deliveries;
    }

    /** Dead-letters a message whose publisher the broker did not authenticate, then acknowledges it. */
    private void refuseUnauthenticated(Channel open, GetResponse response, String why) throws IOException {
        String id = response.getProps().getMessageId() == null ? "none" : response.getProps().getMessageId();
        String detail = "the message has " + why + ": RabbitMQ validates the publisher only when user-id is set,"
                + " so anyone allowed to write the queue could have sent it";
        try {
            writeDeadLetter(response, id, "UNAUTHENTICATED", detail, false);
        } catch (RabbitMqException e) {
            open.basicNack(response.getEnvelope().getDeliveryTag(), false, true); // refused again next round
            throw e;
        }
        open.basicAck(response.getEnvelope().getDeliveryTag(), false);
        audit.event(RabbitMqAudit.MESSAGE_UNAUTHENTICATED).field("queue", queue).field("source", amqpQueue)
                .field("group", amqpQueue).field("reason", "UNAUTHENTICATED").field("detail", detail).record();
    }

    /**
     * Publishes the dead letter of {@code response} to the dead-letter queue, confirmed: the reason,
     * detail, original queue, ID, publisher and delivery count as headers; with {@code keepMessage}
     * the envelope too (its headers and the payload as the body), so an operator can replay it.
     */
    void writeDeadLetter(GetResponse response, String id, String reason, String detail, boolean keepMessage) {
        AMQP.BasicProperties original = response.getProps();
        Map<String, Object> headers = new LinkedHashMap<>();
        headers.put("reason", reason);
        headers.put("detail", detail);
        headers.put("queue", queue);
        headers.put("source", amqpQueue);
        headers.put("entry", id);
        headers.put("publisher", original.getUserId() == null ? "none" : original.getUserId());
        headers.put("delivery_count", RabbitMqDelivery.deliveryCount(original));
        if (keepMessage && original.getHeaders() != null) {
            for (String name : List.of(RabbitMqTransport.VERSION_HEADER, RabbitMqTransport.TOKEN_HEADER)) {
                String value = header(original, name);
                if (value != null) {
                    headers.put(name, value);
                }
            }
        }
        AMQP.BasicProperties properties = new AMQP.BasicProperties.Builder()
                .deliveryMode(2)
                .userId(connection.identity())
                .messageId(UUID.randomUUID().toString())
                .headers(headers)
                .build();
        deadLetters.publish(RabbitMqTransport.deadLetterExchange(amqpQueue), deadLetterQueue, properties,
                keepMessage ? response.getBody() : new byte[0]);
    }

    /** A string header ({@code LongString} on the wire), or null if missing or of another type. */
    static @Nullable String header(AMQP.BasicProperties properties, String name) {
        Map<String, Object> headers = properties.getHeaders();
        Object value = headers == null ? null : headers.get(name);
        return value instanceof LongString || value instanceof String ? value.toString() : null;
    }

    /** The channel deliveries are read and settled on, opened (again) when missing or closed. */
    private Channel channel() throws IOException {
        Channel current = channel;
        if (current != null && current.isOpen()) {
            return current;
        }
        Channel fresh = connection.connection().createChannel();
        if (fresh == null) {
            throw new IOException("the connection has no channel left (channel-max reached)");
        }
        channel = fresh;
        return fresh;
    }

    @Override
    public String toString() {
        return "RabbitMqSource[" + amqpQueue + " as " + connection.identity() + "]";
    }
}
