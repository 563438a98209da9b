package io.settler.zerotrust.queue.rabbitmq;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.LongString;
import io.settler.zerotrust.audit.AuditLog;
import io.settler.zerotrust.queue.Delivery;
import io.settler.zerotrust.queue.DeliverySource;
import io.settler.zerotrust.queue.HandledRecords;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableSet;
import java.util.TreeSet;
import org.jspecify.annotations.Nullable;

/**
 * Deliveries from one quorum queue, taken by its {@link Fetch} ({@code basic.get}, or
 * {@code basic.consume} with a bounded buffer) with manual acknowledgement. A message without a
 * {@code user-id} or {@code message-id} is dead-lettered here and acknowledged, never handed to the
 * consumer: RabbitMQ validates the {@code user-id} only when it is set, so without it the publisher
 * is unknown. Dead letters are published through the group's dead-letter exchange to its
 * dead-letter queue with their reason, confirmed, before the delivery is acknowledged. A batch is
 * acknowledged with one {@code basic.ack multiple} when it holds every delivery still unsettled on
 * the channel up to its last. A channel closed (by the broker, or with a lost connection) is
 * replaced at the next {@link #receive}, on a new connection if need be. Not thread-safe.
 */
final class RabbitMqSource implements DeliverySource {

    private final RabbitMqConnection connection;
    private final String queue;
    private final String amqpQueue;
    private final String deadLetterQueue;
    private final int batchSize;
    private final Fetch fetch;
    private final AuditLog audit;
    private final ConfirmChannel deadLetters;
    private @Nullable Channel channel;
    /** Delivery tags handed out on {@link #channel} and not yet acknowledged or returned. */
    private final NavigableSet<Long> unsettled = new TreeSet<>();
    /** Deferred deliveries kept unacknowledged on {@link #channel}, each with when to offer it again. */
    private final Deque<Held> held = new ArrayDeque<>();

    /** A deferred delivery and the {@link System#nanoTime()} from which it is offered again. */
    private record Held(RabbitMqDelivery delivery, long notBefore) {
    }

    /** How long a deferred delivery waits before it is offered again (its lease is checked again then). */
    static final Duration HOLD = Duration.ofSeconds(1);

    RabbitMqSource(RabbitMqTransport.SourceBuilder builder, String amqpQueue) {
        this.connection = builder.connection;
        this.queue = builder.verifier.queue();
        this.amqpQueue = amqpQueue;
        this.deadLetterQueue = RabbitMqTransport.deadLetterQueue(amqpQueue);
        this.batchSize = builder.batchSize;
        this.fetch = builder.consumeWait == null ? new Fetch.Get()
                : new Fetch.Consume(builder.batchSize, builder.consumeWait);
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
     *     {@code rabbitmq.receive_failed}) if the queue is missing, the worker may not read it, or the
     *     connection was lost (the next call connects again); {@code CONNECTION_FAILED} if no node took
     *     a new connection
     */
    @Override
    public List<Delivery> receive(HandledRecords records) {
        List<Delivery> deliveries = new ArrayList<>();
        try {
            Channel open = channel();
            long now = System.nanoTime();
            while (!held.isEmpty() && held.peekFirst().notBefore() - now <= 0) {
                deliveries.add(held.pollFirst().delivery());
            }
            if (!deliveries.isEmpty()) {
                return deliveries; // deferred ones due again: this round, without waiting for new ones
            }
            for (Fetch.Received message : fetch.next(open, amqpQueue, batchSize)) {
                unsettled.add(message.tag());
                AMQP.BasicProperties properties = message.properties();
                String userId = properties.getUserId();
                String messageId = properties.getMessageId();
                if (userId == null || userId.isBlank() || messageId == null || messageId.isBlank()) {
                    refuseUnauthenticated(message, userId == null || userId.isBlank() ? "no user-id"
                            : "no message-id");
                    continue;
                }
                deliveries.add(new RabbitMqDelivery(this, message, userId, messageId));
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
                throw refusal; // a dead letter not confirmed, or no connection: audited already
            }
            throw audit.event(RabbitMqAudit.RECEIVE_FAILED).field("queue", queue).field("group", amqpQueue)
                    .refused(new RabbitMqException(RabbitMqException.Reason.CHANNEL_FAILED, "could not read quorum"
                            + " queue " + amqpQueue + " (" + RabbitMqConnections.describe(e) + "): check that the"
                            + " setup step declared it (RabbitMqTransport.declare) and that " + connection.identity()
                            + " may read it; a lost connection is opened again at the next receive", e));
        }
        return deliveries;
    }

    /** The refusal of a delivery whose channel closed before the consumer handled it, audited. */
    RabbitMqException channelLost(RabbitMqDelivery delivery) {
        return audit.event(RabbitMqAudit.RECEIVE_FAILED).field("queue", queue).field("group", amqpQueue)
                .refused(new RabbitMqException(RabbitMqException.Reason.CHANNEL_FAILED, "the channel of " + delivery
                        + " closed before it was handled (its connection was lost): the broker delivers it again,"
                        + " maybe to another worker, so it is not handled here; the next receive connects again",
                        null));
    }

    /**
     * Acknowledges {@code deliveries} of this source: with one {@code basic.ack multiple} when they
     * are every delivery still unsettled on the channel up to the last of them, else one by one.
     */
    @Override
    public void acknowledge(List<Delivery> deliveries) {
        List<Fetch.Received> messages = new ArrayList<>(deliveries.size());
        for (Delivery delivery : deliveries) {
            if (!(delivery instanceof RabbitMqDelivery ours) || !ours.isFrom(this)) {
                throw new IllegalArgumentException(delivery + " is not a delivery of " + this);
            }
            messages.add(ours.message());
        }
        Channel current = channel;
        NavigableSet<Long> tags = new TreeSet<>();
        messages.forEach(message -> {
            if (message.channel() == current) {
                tags.add(message.tag());
            }
        });
        if (current != null && tags.size() > 1 && tags.size() == messages.size()
                && unsettled.headSet(tags.last(), true).equals(tags)) {
            try {
                current.basicAck(tags.last(), true);
            } catch (IOException e) {
                throw new UncheckedIOException("could not acknowledge " + tags.size() + " deliveries; they will"
                        + " be delivered again and acknowledged as finished", e);
            }
            unsettled.removeAll(tags);
            return;
        }
        messages.forEach(this::acknowledge);
    }

    /** {@code basic.ack} of one message. */
    void acknowledge(Fetch.Received message) {
        try {
            message.channel().basicAck(message.tag(), false);
        } catch (IOException e) {
            throw new UncheckedIOException("could not acknowledge a delivery; it will be delivered again", e);
        }
        settled(message);
    }

    /**
     * Keeps a deferred delivery unacknowledged on its channel, to be offered again after {@link #HOLD}:
     * the broker neither hands it out again nor counts a delivery meanwhile (it still takes one of the
     * prefetch's places). A delivery of a channel since replaced is the broker's again already.
     */
    void hold(RabbitMqDelivery delivery) {
        if (delivery.message().channel() == channel && unsettled.contains(delivery.message().tag())) {
            held.add(new Held(delivery, System.nanoTime() + HOLD.toNanos()));
        }
    }

    /** {@code basic.nack} with requeue of one message: the broker delivers it again, counted. */
    void requeue(Fetch.Received message) {
        try {
            message.channel().basicNack(message.tag(), false, true);
        } catch (IOException e) {
            throw new UncheckedIOException("could not return a delivery to the queue; it is returned when the"
                    + " channel closes", e);
        }
        settled(message);
    }

    private void settled(Fetch.Received message) {
        if (message.channel() == channel) {
            unsettled.remove(message.tag());
        }
    }

    /** Dead-letters a message whose publisher the broker did not authenticate, then acknowledges it. */
    private void refuseUnauthenticated(Fetch.Received message, String why) {
        String id = message.properties().getMessageId() == null ? "none" : message.properties().getMessageId();
        String detail = "the message has " + why + ": RabbitMQ validates the publisher only when user-id is set,"
                + " so anyone allowed to write the queue could have sent it";
        try {
            writeDeadLetter(message, id, "UNAUTHENTICATED", detail, false);
        } catch (RabbitMqException e) {
            requeue(message); // refused again next round
            throw e;
        }
        acknowledge(message);
        audit.event(RabbitMqAudit.MESSAGE_UNAUTHENTICATED).field("queue", queue).field("source", amqpQueue)
                .field("group", amqpQueue).field("reason", "UNAUTHENTICATED").field("detail", detail).record();
    }

    /**
     * Publishes the dead letter of {@code message} to the dead-letter queue, confirmed: the reason,
     * detail, original queue, ID, publisher and delivery count as headers; with {@code keepMessage}
     * the envelope too (its headers and the payload as the body), so an operator can replay it.
     */
    void writeDeadLetter(Fetch.Received message, String id, String reason, String detail, boolean keepMessage) {
        AMQP.BasicProperties original = message.properties();
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
        deadLetters.publish(RabbitMqTransport.deadLetterExchange(amqpQueue), deadLetterQueue,
                messageId -> new AMQP.BasicProperties.Builder()
                .deliveryMode(2)
                .userId(connection.identity())
                .messageId(messageId)
                .headers(headers)
                .build(), keepMessage ? message.body() : new byte[0]);
    }

    /** A string header ({@code LongString} on the wire), or null if missing or of another type. */
    static @Nullable String header(AMQP.BasicProperties properties, String name) {
        Map<String, Object> headers = properties.getHeaders();
        Object value = headers == null ? null : headers.get(name);
        return value instanceof LongString || value instanceof String ? value.toString() : null;
    }

    /**
     * The channel deliveries are read and settled on, opened (again, on a new connection if it was
     * lost) when missing or closed; deliveries of the old one are the broker's again.
     */
    private Channel channel() throws IOException {
        Channel current = channel;
        if (current != null && current.isOpen()) {
            return current;
        }
        unsettled.clear();
        held.clear();
        channel = null;
        Channel fresh = connection.createChannel();
        try {
            fetch.open(fresh, amqpQueue);
        } catch (IOException | RuntimeException e) {
            try {
                fresh.abort();
            } catch (IOException | RuntimeException again) {
                e.addSuppressed(again);
            }
            throw e;
        }
        channel = fresh;
        return fresh;
    }

    @Override
    public String toString() {
        return "RabbitMqSource[" + amqpQueue + " as " + connection.identity() + "]";
    }
}
