package io.settler.zerotrust.testkit;

import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The end of a local server's life, in one place: stop it and delete its directory exactly once,
 * on {@code close()} or, if the JVM exits first, from a shutdown hook.
 */
final class ServerLifecycle {

    private static final Logger LOG = LoggerFactory.getLogger(ServerLifecycle.class);

    private final String name;
    private final ServerDirectory directory;
    private final Runnable stopServer;
    private final AtomicBoolean closed = new AtomicBoolean();
    private final Thread shutdownHook;

    /**
     * @param name the server's name in messages, e.g. {@code PostgreSQL}
     * @param directory deleted after the server stops
     * @param stopServer stops the server process; must not throw
     */
    ServerLifecycle(String name, ServerDirectory directory, Runnable stopServer) {
        this.name = name;
        this.directory = directory;
        this.stopServer = stopServer;
        this.shutdownHook =
                new Thread(this::end, "settler-testkit-" + name.toLowerCase(java.util.Locale.ROOT) + "-stop");
        Runtime.getRuntime().addShutdownHook(shutdownHook);
    }

    /** Stops the server and deletes its directory; idempotent. */
    void close() {
        if (end()) {
            try {
                Runtime.getRuntime().removeShutdownHook(shutdownHook);
            } catch (IllegalStateException e) {
                // The JVM is shutting down; the hook is running or has run.
            }
        }
    }

    /**
     * Closes every one of {@code servers} in order, even when one fails, then throws the first
     * failure with the others suppressed (a cluster's nodes, then what they share).
     */
    static void closeAll(List<? extends AutoCloseable> servers) {
        RuntimeException failure = null;
        for (AutoCloseable server : servers) {
            try {
                server.close();
            } catch (Exception e) {
                RuntimeException unchecked = e instanceof RuntimeException r ? r
                        : new IllegalStateException("cannot close " + server, e);
                if (failure == null) {
                    failure = unchecked;
                } else {
                    failure.addSuppressed(unchecked);
                }
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    /** Throws if the server was closed. */
    void checkOpen(Object server) {
        if (closed.get()) {
            throw new IllegalStateException(server + " is closed");
        }
    }

    private boolean end() {
        if (!closed.compareAndSet(false, true)) {
            return false;
        }
        try {
            stopServer.run();
        } finally {
            directory.delete();
        }
        LOG.debug("Stopped {} and deleted {}", name, directory.path());
        return true;
    }
}
