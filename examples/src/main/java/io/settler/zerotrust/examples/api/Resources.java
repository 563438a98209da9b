package io.settler.zerotrust.examples.api;

import java.util.ArrayDeque;
import java.util.Deque;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a service started, closed in reverse order: by {@link ApiServer#close()}, and by
 * {@link ApiServer#start} when a later step fails, so a half-started server leaves nothing running.
 * Closing goes on past a failure (logged, never thrown) and happens once.
 */
final class Resources implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Resources.class);

    private final Deque<AutoCloseable> opened = new ArrayDeque<>();
    private boolean closed;

    /** Registers {@code resource} to be closed before everything registered earlier; returns it. */
    synchronized <T extends AutoCloseable> T add(T resource) {
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
