package io.settler.zerotrust.spring;

import io.settler.zerotrust.audit.AuditLog;
import io.settler.zerotrust.queue.QueueConsumer;
import io.settler.zerotrust.queue.QueueException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.jspecify.annotations.Nullable;
import org.springframework.context.SmartLifecycle;

/**
 * Runs a {@link QueueConsumer} on one thread of its own from the start of the context to its close:
 * {@code poll()} again at once after a round that settled messages, after {@code pollInterval} when
 * one found nothing or failed ({@code spring.queue.poll_failed}). Stopping lets the round in progress,
 * and so the handler running, finish (it is never interrupted), then returns; messages of a later
 * round stay with the broker for the next worker.
 */
final class QueuePoller implements SmartLifecycle {

    private final QueueConsumer consumer;
    private final Duration pollInterval;
    private final AuditLog audit;
    private final String queue;
    private final String group;
    private final String name;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition wake = lock.newCondition();
    private volatile boolean running;
    private @Nullable Thread thread;

    QueuePoller(QueueConsumer consumer, Duration pollInterval, AuditLog audit, String queue, String group,
                String name) {
        this.consumer = consumer;
        this.pollInterval = pollInterval;
        this.audit = audit;
        this.queue = queue;
        this.group = group;
        this.name = name;
    }

    @Override
    public void start() {
        lock.lock();
        try {
            if (running) {
                return;
            }
            running = true;
            Thread poller = new Thread(this::run, "zerotrust-queue-" + queue + "-" + name);
            thread = poller;
            poller.start();
        } finally {
            lock.unlock();
        }
    }

    private void run() {
        while (running) {
            int settled;
            try {
                settled = consumer.poll();
            } catch (RuntimeException e) {
                String reason = e instanceof QueueException refused ? refused.reason().name()
                        : e.getClass().getSimpleName();
                audit.event(SpringAudit.QUEUE_POLL_FAILED).field("queue", queue).field("group", group)
                        .field("consumer", name).field("reason", reason)
                        .field("detail", String.valueOf(e.getMessage())).record();
                settled = 0;
            }
            if (settled == 0) {
                pause();
            }
        }
    }

    private void pause() {
        lock.lock();
        try {
            long nanos = pollInterval.toNanos();
            while (running && nanos > 0) {
                nanos = wake.awaitNanos(nanos);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            running = false;
        } finally {
            lock.unlock();
        }
    }

    /** Ends polling and waits for the round in progress (its handler included) to finish. */
    @Override
    public void stop() {
        Thread poller;
        lock.lock();
        try {
            running = false;
            wake.signalAll();
            poller = thread;
            thread = null;
        } finally {
            lock.unlock();
        }
        if (poller != null && poller != Thread.currentThread()) {
            try {
                poller.join(TimeUnit.MINUTES.toMillis(1));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public boolean isRunning() {
        return running;
    }
}
