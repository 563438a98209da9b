package io.settler.zerotrust.queue.rabbitmq;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.DefaultConsumer;
import com.rabbitmq.client.Envelope;
import com.rabbitmq.client.GetResponse;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * How a {@link RabbitMqSource} takes messages from its quorum queue on its channel, the only part
 * in which {@code basic.get} and {@code basic.consume} differ: both hand out {@link Received}
 * messages acknowledged manually, which the source checks and settles the same way.
 */
sealed interface Fetch {

    /** Prepares a channel just opened (again) for {@link #next}. */
    void open(Channel channel, String queue) throws IOException;

    /** Up to {@code max} messages from {@code queue} on {@code channel}, without blocking for long. */
    List<Received> next(Channel channel, String queue, int max) throws IOException;

    /**
     * A message as the broker delivered it on a channel, to be settled there by its delivery tag. The
     * body is the client's array, read only and never compared, so a record is fine here.
     */
    @SuppressWarnings("ArrayRecordComponent")
    record Received(Channel channel, long tag, AMQP.BasicProperties properties, byte[] body) {
    }

    /**
     * {@code basic.get}, one round trip per message: nothing waits in a client buffer, and
     * {@link #next} returns what is there at once.
     */
    record Get() implements Fetch {
        @Override
        public void open(Channel channel, String queue) {
        }

        @Override
        public List<Received> next(Channel channel, String queue, int max) throws IOException {
            List<Received> messages = new ArrayList<>();
            while (messages.size() < max) {
                GetResponse response = channel.basicGet(queue, false);
                if (response == null) {
                    break;
                }
                messages.add(new Received(channel, response.getEnvelope().getDeliveryTag(), response.getProps(),
                        response.getBody()));
            }
            return messages;
        }
    }

    /**
     * {@code basic.consume} with {@code basic.qos} {@code prefetch}: the broker pushes at most that
     * many unacknowledged messages into a buffer of this worker, so the next batch is on its way
     * while the consumer settles one. {@link #next} waits at most {@code maxWait} for the first
     * message, then takes what is buffered. The buffer belongs to one channel: a new channel
     * subscribes again with an empty one (the broker requeues what the old one held).
     * Messages arrive on the client's consumer thread, the rest happens on the polling thread.
     */
    final class Consume implements Fetch {
        private final int prefetch;
        private final Duration maxWait;
        private @Nullable Subscription subscription;

        Consume(int prefetch, Duration maxWait) {
            this.prefetch = prefetch;
            this.maxWait = maxWait;
        }

        @Override
        public void open(Channel channel, String queue) throws IOException {
            subscribe(channel, queue);
        }

        private Subscription subscribe(Channel channel, String queue) throws IOException {
            channel.basicQos(prefetch);
            Subscription fresh = new Subscription(channel, prefetch);
            channel.basicConsume(queue, false, fresh);
            subscription = fresh;
            return fresh;
        }

        @Override
        public List<Received> next(Channel channel, String queue, int max) throws IOException {
            Subscription current = subscription;
            if (current == null || current.getChannel() != channel || current.cancelled) {
                current = subscribe(channel, queue); // the broker cancelled the consumer (e.g. queue deleted)
            }
            List<Received> messages = new ArrayList<>();
            try {
                Received first = current.buffer.poll(maxWait.toNanos(), TimeUnit.NANOSECONDS);
                if (first == null) {
                    return messages;
                }
                messages.add(first);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted while waiting for a delivery");
            }
            current.buffer.drainTo(messages, max - 1);
            return messages;
        }

        /** One {@code basic.consume} on one channel and its buffer, bounded by the prefetch. */
        private static final class Subscription extends DefaultConsumer {
            final BlockingQueue<Received> buffer;
            volatile boolean cancelled;

            Subscription(Channel channel, int prefetch) {
                super(channel);
                this.buffer = new LinkedBlockingQueue<>(prefetch);
            }

            @Override
            public void handleDelivery(String consumerTag, Envelope envelope, AMQP.BasicProperties properties,
                    byte[] body) {
                // Never full: the broker sends at most prefetch unacknowledged messages, and those
                // taken out were handed to the consumer and are still unacknowledged or settled.
                if (!buffer.offer(new Received(getChannel(), envelope.getDeliveryTag(), properties, body))) {
                    throw new IllegalStateException("the broker sent more than the prefetch of " + buffer.size());
                }
            }

            @Override
            public void handleCancel(String consumerTag) {
                cancelled = true;
            }
        }
    }
}
