package io.settler.zerotrust.queue.rabbitmq;

import com.rabbitmq.client.AMQP;
import io.settler.zerotrust.queue.Delivery;
import io.settler.zerotrust.queue.Envelope;
import io.settler.zerotrust.queue.QueueException;
import java.time.Instant;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * One delivery ({@code basic.get} or {@code basic.consume}): settled through its source on the
 * channel it came from ({@code basic.ack}, {@code basic.nack} with requeue), dead-lettered through
 * the source. Its ID is the validated {@code user-id} and the publisher's {@code message-id}.
 */
final class RabbitMqDelivery implements Delivery {

    private final RabbitMqSource source;
    private final Fetch.Received message;
    private final String publisher;
    private final String id;

    RabbitMqDelivery(RabbitMqSource source, Fetch.Received message, String publisher, String messageId) {
        this.source = source;
        this.message = message;
        this.publisher = publisher;
        this.id = id(publisher, messageId);
    }

    /** A message's ID: the validated publisher and its message-id, so only that publisher can repeat one. */
    static String id(String publisher, String messageId) {
        return publisher + " " + messageId;
    }

    /** The quorum queue's count of earlier deliveries ({@code x-delivery-count}) plus this one. */
    static long deliveryCount(AMQP.BasicProperties properties) {
        Map<String, Object> headers = properties.getHeaders();
        Object count = headers == null ? null : headers.get("x-delivery-count");
        return count instanceof Number number ? Math.max(0, number.longValue()) + 1 : 1;
    }

    /** The message as received, to be settled on its channel. */
    Fetch.Received message() {
        return message;
    }

    boolean isFrom(RabbitMqSource source) {
        return this.source == source;
    }

    @Override
    public String source() {
        return source.group();
    }

    @Override
    public String id() {
        return id;
    }

    /** The envelope from the headers {@code v} and {@code tok} and the body; {@code MALFORMED} otherwise. */
    @Override
    public Envelope envelope() {
        AMQP.BasicProperties properties = message.properties();
        Map<String, String> fields = new LinkedHashMap<>();
        String version = RabbitMqSource.header(properties, RabbitMqTransport.VERSION_HEADER);
        String token = RabbitMqSource.header(properties, RabbitMqTransport.TOKEN_HEADER);
        if (version != null) {
            fields.put(RabbitMqTransport.VERSION_HEADER, version);
        }
        if (token != null) {
            fields.put(RabbitMqTransport.TOKEN_HEADER, token);
        }
        fields.put("pld", Base64.getUrlEncoder().withoutPadding().encodeToString(message.body()));
        return Envelope.fromFields(fields);
    }

    @Override
    public long deliveryCount() {
        return deliveryCount(message.properties());
    }

    /** The broker-validated {@code user-id}. */
    @Override
    public Optional<String> authenticatedPublisher() {
        return Optional.of(publisher);
    }

    /** RabbitMQ records no time of its own (the timestamp property is the publisher's). */
    @Override
    public Optional<Instant> brokerTime() {
        return Optional.empty();
    }

    /**
     * Stops the consumer before it verifies or handles a delivery whose channel closed (its
     * connection was lost): the broker gives such a message out again, maybe at once to another
     * worker, so handling it here too could run it twice at the same time. Throws a
     * {@link RabbitMqException} (audited as {@code rabbitmq.receive_failed}), not a rejection: the
     * consumer's round ends, nothing is dead-lettered, and the rest of the batch is the broker's again.
     */
    @Override
    public void checkUsable() {
        if (!message.channel().isOpen()) {
            throw source.channelLost(this);
        }
    }

    @Override
    public void acknowledge() {
        source.acknowledge(message);
    }

    @Override
    public void deadLetter(QueueException.Reason reason, String detail, boolean keepMessage) {
        source.writeDeadLetter(message, id, reason.name(), detail, keepMessage);
    }

    @Override
    public void leaveForRedelivery() {
        source.requeue(message);
    }

    /** Kept unacknowledged on its channel and offered again by a later receive: the broker counts nothing. */
    @Override
    public void defer() {
        source.hold(this);
    }

    @Override
    public String toString() {
        return "RabbitMqDelivery[" + source.group() + " " + id + "]";
    }
}
