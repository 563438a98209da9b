package io.settler.zerotrust.examples;

import java.util.ArrayDeque;
import java.util.Deque;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a service (or the demo) started, closed in reverse order: when it stops, and when a later
 * step of its start fails, so a half-started service leaves nothing running. Closing goes on past
 * a failure (logged, never thrown) and happens once. Thread-safe.
 */
public final class Resources implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Resources.class);

    private final Deque<AutoCloseable> opened = new ArrayDeque<>();
    private boolean closed;

    /** Registers {@code resource} to be closed before everything registered earlier; returns it. */
    public synchronized <T extends AutoCloseable> T add(T resource) {
        if (closed) {
            throw new IllegalStateException("already closed; cannot add " + resource);
        }
        opened.push(resource);
        return resource;
    }

    /** Closes everything registered, newest first; idempotent. */
    @Override
    public synchronized void close() {
        closed = true;
        while (!opened.isEmpty()) {
            AutoCloseable resource = opened.pop();
            try {
                resource.close();
            } catch (Exception e) {
                if (e instanceof InterruptedException) {
                    Thread.currentThread().interrupt();
                }
                LOG.warn("closing {} failed: {}", resource, e.toString());
            }
        }
    }
}
