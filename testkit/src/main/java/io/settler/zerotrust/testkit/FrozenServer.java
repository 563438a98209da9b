package io.settler.zerotrust.testkit;

import io.settler.zerotrust.time.Durations;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A test server frozen with SIGSTOP (every one of its processes): its sockets stay open and accept
 * bytes, but nothing answers, as with a server that hangs or a network that drops everything
 * silently. {@link #close()} resumes it (SIGCONT); always close it, e.g. in try-with-resources.
 *
 * <pre>{@code
 * try (FrozenServer frozen = postgres.freeze().resumingAfter(Duration.ofSeconds(6))) {
 *     // calls must fail within their configured bound
 * }
 * // the server answers again
 * }</pre>
 */
public final class FrozenServer implements AutoCloseable {

    private final String name;
    private final List<ProcessHandle> processes;
    private final AtomicBoolean resumed = new AtomicBoolean();

    FrozenServer(String name, List<ProcessHandle> processes) {
        this.name = name;
        this.processes = List.copyOf(processes);
    }

    /**
     * Resumes the server after {@code limit} at the latest, even if nobody closes this handle first
     * (e.g. while the call under test blocks the closing thread for good).
     *
     * @param limit how long the server may stay frozen; positive
     * @return this handle
     */
    public FrozenServer resumingAfter(Duration limit) {
        long millis = Durations.toMillisRoundedUp(Durations.requirePositive("limit", limit));
        Thread timer = new Thread(() -> {
            try {
                Thread.sleep(millis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            close();
        }, "settler-testkit-" + name.toLowerCase(Locale.ROOT) + "-resume");
        timer.setDaemon(true);
        timer.start();
        return this;
    }

    /** Resumes every frozen process (SIGCONT); idempotent. */
    @Override
    public void close() {
        if (resumed.compareAndSet(false, true)) {
            ServerProcess.signal("CONT", processes);
        }
    }

    /** Names the server and how many processes are frozen. */
    @Override
    public String toString() {
        return "FrozenServer[" + name + ", " + processes.size() + " processes" + (resumed.get() ? ", resumed" : "")
                + "]";
    }
}
