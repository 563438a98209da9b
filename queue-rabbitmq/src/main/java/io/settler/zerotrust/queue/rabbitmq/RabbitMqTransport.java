package io.settler.zerotrust.queue.rabbitmq;

import com.rabbitmq.client.Channel;
import io.settler.zerotrust.audit.AuditLog;
import io.settler.zerotrust.queue.DeliverySource;
import io.settler.zerotrust.queue.EnvelopeSender;
import io.settler.zerotrust.queue.EnvelopeSigner;
import io.settler.zerotrust.queue.EnvelopeVerifier;
import java.io.IOException;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeoutException;
import org.jspecify.annotations.Nullable;

/**
 * The queue on RabbitMQ: a durable quorum queue per consumer group, named after the queue by
 * default, with its dead-letter queue {@code <queue>.dead-letter}. Connections come from
 * {@link RabbitMqConnections} (TLS 1.3, SASL EXTERNAL).
 *
 * <pre>{@code
 * RabbitMqTransport.declare(operator, "jobs", 20);                     // setup, as the operator (or definitions)
 * EnvelopeSender sender = RabbitMqTransport.sender(api, signer).build();
 * DeliverySource source = RabbitMqTransport.source(worker, verifier).build();
 * }</pre>
 *
 * <p>Publishers write to {@link #publishExchange} and workers their dead letters to
 * {@link #deadLetterExchange}, so each needs {@code write} on one exchange only
 * ({@link RabbitMqBrokerConfig} renders those permissions from the policy).
 *
 * <p>How it keeps the transport contract: {@code send} returns after the publisher confirm
 * (persistent, {@code mandatory}, the connection's identity as the {@code user-id}, which the broker
 * validates); deliveries are fetched with {@code basic.get} (or {@code basic.consume} with a bounded
 * prefetch, {@link SourceBuilder#consume}) and manual acknowledgement, counted by the
 * quorum queue's {@code x-delivery-count}, and their publisher
 * ({@link io.settler.zerotrust.queue.Delivery#authenticatedPublisher()}) is the validated
 * {@code user-id}. A message without one is dead-lettered by the source, unread.
 * The delivery's ID is {@code <user-id> <message-id>}: RabbitMQ assigns no ID of its own, so only
 * the authenticated publisher could give two messages one ID (see the module's README).
 */
public final class RabbitMqTransport {

    /** The header that carries the envelope's version ({@code 1}). */
    static final String VERSION_HEADER = "v";
    /** The header that carries the envelope's token; the body is the payload. */
    static final String TOKEN_HEADER = "tok";

    private RabbitMqTransport() {
    }

    /** The dead-letter queue of {@code queue}: {@code <queue>.dead-letter}. */
    public static String deadLetterQueue(String queue) {
        return Objects.requireNonNull(queue, "queue") + ".dead-letter";
    }

    /**
     * The exchange publishers of {@code queue} write to: {@code zt.publish.<queue>}, a durable direct
     * exchange bound to the quorum queue with the queue's name as routing key. Publishing here rather
     * than through the default exchange lets a publisher's {@code write} permission name this exchange
     * alone: it can reach no other queue, not even the dead-letter queue.
     */
    public static String publishExchange(String queue) {
        return "zt.publish." + Objects.requireNonNull(queue, "queue");
    }

    /**
     * The exchange workers write dead letters of {@code queue} (the group's quorum queue) to:
     * {@code zt.dead-letter.<queue>}, a durable direct exchange bound to {@link #deadLetterQueue}. A
     * worker's {@code write} permission names this exchange alone, so it cannot publish a job into
     * any queue; the broker's own dead-lettering ({@code x-delivery-limit}) uses it too.
     */
    public static String deadLetterExchange(String queue) {
        return "zt.dead-letter." + Objects.requireNonNull(queue, "queue");
    }

    /**
     * The arguments of the quorum queue {@code queue}: quorum, dead-lettering through
     * {@link #deadLetterExchange} to {@link #deadLetterQueue}, and the broker's delivery limit. The
     * setup step declares them and the rendered broker definitions carry the same.
     */
    static Map<String, Object> queueArguments(String queue, int deliveryLimit) {
        return Map.of("x-queue-type", "quorum", "x-dead-letter-exchange", deadLetterExchange(queue),
                "x-dead-letter-routing-key", deadLetterQueue(queue), "x-delivery-limit", deliveryLimit);
    }

    /** The arguments of a dead-letter queue: quorum. */
    static Map<String, Object> deadLetterQueueArguments() {
        return Map.of("x-queue-type", "quorum");
    }

    /**
     * Starts the sender of the publisher {@code signer} seals for, over {@code connection} (logged in
     * as that publisher), to {@link #publishExchange} with the queue's name as the routing key.
     */
    public static SenderBuilder sender(RabbitMqConnection connection, EnvelopeSigner signer) {
        return new SenderBuilder(connection, signer.queue(), signer.publisher());
    }

    /**
     * Starts the source of one worker reading, over {@code connection} (logged in as the worker), the
     * quorum queue of the queue {@code verifier} checks.
     */
    public static SourceBuilder source(RabbitMqConnection connection, EnvelopeVerifier verifier) {
        return new SourceBuilder(connection, verifier);
    }

    /**
     * The setup step, as an operator: declares the durable quorum queue {@code queue}, whose messages
     * a worker rejects go to {@link #deadLetterQueue} (through {@link #deadLetterExchange}), and which
     * the broker itself dead-letters after {@code deliveryLimit} returns ({@code x-delivery-limit}:
     * set it above the consumer's {@code maxDeliveries}, so the consumer's dead letter with its reason
     * comes first), the dead-letter queue, the two direct exchanges {@link #publishExchange} and
     * {@link #deadLetterExchange} and their bindings. Declaring again with the same arguments changes
     * nothing; a broker started from {@link RabbitMqBrokerConfig}'s definitions has them already.
     *
     * @throws RabbitMqException {@link RabbitMqException.Reason#CHANNEL_FAILED} if the broker refuses
     *     (no configure permission, or the queue exists with other arguments)
     */
    public static void declare(RabbitMqConnection operator, String queue, int deliveryLimit) {
        Objects.requireNonNull(queue, "queue");
        if (deliveryLimit < 1) {
            throw new IllegalArgumentException("deliveryLimit is at least 1; got " + deliveryLimit);
        }
        try (Channel channel = operator.connection().createChannel()) {
            channel.queueDeclare(deadLetterQueue(queue), true, false, false, deadLetterQueueArguments());
            channel.queueDeclare(queue, true, false, false, queueArguments(queue, deliveryLimit));
            channel.exchangeDeclare(publishExchange(queue), "direct", true);
            channel.exchangeDeclare(deadLetterExchange(queue), "direct", true);
            channel.queueBind(queue, publishExchange(queue), queue);
            channel.queueBind(deadLetterQueue(queue), deadLetterExchange(queue), deadLetterQueue(queue));
        } catch (IOException | TimeoutException | RuntimeException e) {
            throw new RabbitMqException(RabbitMqException.Reason.CHANNEL_FAILED, "could not declare quorum queue "
                    + queue + " and " + deadLetterQueue(queue) + " as " + operator.identity() + " ("
                    + RabbitMqConnections.describe(e) + "): the operator needs configure permission on both and"
                    + " on the exchanges " + publishExchange(queue) + " and " + deadLetterExchange(queue) + ", write"
                    + " on the queues and read on the exchanges (to bind), and an existing queue must have the same"
                    + " arguments", e);
        }
    }

    static Duration checkTimeout(Duration timeout) {
        Objects.requireNonNull(timeout, "timeout");
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("the confirm timeout must be positive; got " + timeout);
        }
        return timeout;
    }

    /** Settings of a RabbitMQ {@link EnvelopeSender}. */
    public static final class SenderBuilder {
        final RabbitMqConnection connection;
        final String queue;
        final String publisher;
        String exchange;
        String routingKey;
        Duration confirmTimeout = Duration.ofSeconds(10);
        AuditLog audit = AuditLog.slf4j();

        private SenderBuilder(RabbitMqConnection connection, String queue, String publisher) {
            this.connection = Objects.requireNonNull(connection, "connection");
            this.queue = Objects.requireNonNull(queue, "queue");
            this.publisher = Objects.requireNonNull(publisher, "publisher");
            this.exchange = publishExchange(queue);
            this.routingKey = queue;
        }

        /**
         * Publishes to {@code exchange} with {@code routingKey} instead of {@link #publishExchange} with
         * the queue's name; the operator binds the group's queues to it ({@code ""} is the default
         * exchange, which needs {@code write} on {@code amq.default}: every queue of the virtual host).
         */
        public SenderBuilder exchange(String exchange, String routingKey) {
            this.exchange = Objects.requireNonNull(exchange, "exchange");
            this.routingKey = Objects.requireNonNull(routingKey, "routingKey");
            return this;
        }

        /** How long {@code send} waits for the publisher confirm (default 10 s). */
        public SenderBuilder confirmTimeout(Duration confirmTimeout) {
            this.confirmTimeout = checkTimeout(confirmTimeout);
            return this;
        }

        /** Where refused publishes ({@code rabbitmq.publish_refused}) go (default SLF4J). */
        public SenderBuilder auditLog(AuditLog audit) {
            this.audit = Objects.requireNonNull(audit, "audit");
            return this;
        }

        /**
         * The sender; thread-safe (one publish at a time on its own confirm channel).
         *
         * @throws RabbitMqException {@link RabbitMqException.Reason#INVALID_CONFIGURATION} (audited as
         *     {@code rabbitmq.connection_refused}) if the connection is logged in as another service
         *     than the signer's publisher: every message would be refused as {@code WRONG_PUBLISHER}
         */
        public EnvelopeSender build() {
            if (!connection.identity().equals(publisher)) {
                throw RabbitMqConnections.refused(audit, connection.toString(), connection.identity(),
                        new RabbitMqException(RabbitMqException.Reason.INVALID_CONFIGURATION, "the connection is"
                                + " logged in as " + connection.identity() + " but the signer seals for " + publisher
                                + "; consumers refuse such messages (WRONG_PUBLISHER): connect with the publisher's"
                                + " own certificate", null));
            }
            return new RabbitMqSender(this);
        }
    }

    /** Settings of a RabbitMQ {@link DeliverySource}. */
    public static final class SourceBuilder {
        final RabbitMqConnection connection;
        final EnvelopeVerifier verifier;
        @Nullable String amqpQueue;
        int batchSize = 32;
        @Nullable Duration consumeWait;
        Duration confirmTimeout = Duration.ofSeconds(10);
        AuditLog audit = AuditLog.slf4j();

        private SourceBuilder(RabbitMqConnection connection, EnvelopeVerifier verifier) {
            this.connection = Objects.requireNonNull(connection, "connection");
            this.verifier = Objects.requireNonNull(verifier, "verifier");
        }

        /**
         * The quorum queue this worker's group reads (default the queue's name); each consumer group
         * has its own queue, bound by the operator to the exchange publishers use.
         */
        public SourceBuilder group(String amqpQueue) {
            this.amqpQueue = Objects.requireNonNull(amqpQueue, "amqpQueue");
            return this;
        }

        /**
         * Takes messages with {@code basic.consume} instead of {@code basic.get}: the broker pushes up
         * to {@link #batchSize} unacknowledged messages ({@code basic.qos} prefetch) into a buffer of this
         * worker, bounded by that prefetch, so the next batch travels while the consumer settles one and a
         * batch costs no round trip per message. {@code receive} waits at most {@code maxWait} for the
         * first message, then takes what is buffered, up to a batch; keep it short (e.g. 100 ms to 1 s)
         * so a polling loop can stop. Deliveries, their checks and their settling are the same as with
         * {@code basic.get}; what the buffer holds when the channel or worker dies goes back to the queue.
         */
        public SourceBuilder consume(Duration maxWait) {
            Objects.requireNonNull(maxWait, "maxWait");
            if (maxWait.isNegative() || maxWait.compareTo(Duration.ofMinutes(1)) > 0) {
                throw new IllegalArgumentException("maxWait is 0 to 1 minute, so receive does not block for long;"
                        + " got " + maxWait);
            }
            this.consumeWait = maxWait;
            return this;
        }

        /** Messages per {@code receive}, and the prefetch with {@link #consume} (default 32). */
        public SourceBuilder batchSize(int batchSize) {
            if (batchSize < 1 || batchSize > 10_000) {
                throw new IllegalArgumentException("batchSize is 1 to 10000; got " + batchSize);
            }
            this.batchSize = batchSize;
            return this;
        }

        /** How long writing a dead letter waits for its publisher confirm (default 10 s). */
        public SourceBuilder confirmTimeout(Duration confirmTimeout) {
            this.confirmTimeout = checkTimeout(confirmTimeout);
            return this;
        }

        /** Where unauthenticated messages and failed reads are recorded (default SLF4J). */
        public SourceBuilder auditLog(AuditLog audit) {
            this.audit = Objects.requireNonNull(audit, "audit");
            return this;
        }

        /** The source; not thread-safe (one per worker thread, like the consumer). */
        public DeliverySource build() {
            return new RabbitMqSource(this, amqpQueue != null ? amqpQueue : verifier.queue());
        }
    }
}
