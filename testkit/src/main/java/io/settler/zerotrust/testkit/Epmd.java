package io.settler.zerotrust.testkit;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A private Erlang port mapper daemon on {@code 127.0.0.1} and a free port, for the RabbitMQ nodes
 * of one {@link LocalRabbitMq} or {@link LocalRabbitMqCluster}: the nodes and {@code rabbitmqctl}
 * register and find each other there ({@code ERL_EPMD_PORT}), never at the machine's epmd on 4369,
 * so the nodes registered there (a system RabbitMQ's) are neither seen nor touched. It runs in the
 * foreground as a child of this JVM (not {@code -daemon}, which would detach it from the JVM and
 * outlive the test), in a directory of its own, so {@link #close()}, the JVM's shutdown hook and
 * the sweep after a killed JVM stop it like any other test server.
 */
final class Epmd implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Epmd.class);
    private static final int PORT_ATTEMPTS = 5;
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(1);
    private static final Duration STOP_GRACE = Duration.ofSeconds(5);
    /** What epmd (with {@code -d}) logs before it exits when another epmd holds its port. */
    private static final String PORT_TAKEN = "there is already a epmd running";

    private final ServerDirectory directory;
    private final ServerLifecycle lifecycle;
    private volatile @Nullable ServerProcess process;
    private volatile int port;

    private Epmd(ServerDirectory directory) {
        this.directory = directory;
        this.lifecycle = new ServerLifecycle("epmd", directory, this::stopProcess);
    }

    /**
     * Starts epmd as {@code user} and waits until it accepts connections.
     *
     * @throws TestkitException if it does not start within {@code timeout}
     */
    static Epmd start(Path epmd, ServerUser user, Duration timeout) {
        ServerDirectory directory = ServerDirectory.create("epmd");
        Epmd started;
        try {
            started = new Epmd(directory);
        } catch (RuntimeException e) {
            directory.delete(); // e.g. the JVM is shutting down and takes no more hooks
            throw e;
        }
        try {
            started.launch(epmd, user, timeout);
            return started;
        } catch (RuntimeException | Error e) {
            started.close();
            throw e;
        }
    }

    /** The port it listens on, on {@code 127.0.0.1} only: what the nodes get as {@code ERL_EPMD_PORT}. */
    int port() {
        return port;
    }

    /** The epmd process (for the testkit's own tests). */
    ProcessHandle process() {
        ServerProcess running = process;
        if (running == null) {
            throw new IllegalStateException("epmd was never started");
        }
        return running.handle();
    }

    /** Stops epmd and deletes its directory. Idempotent. */
    @Override
    public void close() {
        lifecycle.close();
    }

    @Override
    public String toString() {
        return "Epmd[127.0.0.1:" + port + "]";
    }

    private void launch(Path epmd, ServerUser user, Duration timeout) {
        Path log = directory.resolve("epmd.log");
        for (int attempt = 1; ; attempt++) {
            int candidate = FreePorts.pick();
            port = candidate;
            // -d: epmd then says why it exits when the port is taken (and logs registrations).
            ServerProcess started = ServerProcess.start("epmd", user.command(List.of(epmd.toString(), "-d",
                    "-port", Integer.toString(candidate), "-address", "127.0.0.1")), epmd, directory, log, Map.of());
            process = started;
            try {
                started.awaitReady(timeout, () -> accepts(candidate) && started.isAlive()
                        && !Files.readString(log).contains(PORT_TAKEN));
                return;
            } catch (TestkitException e) {
                if (attempt < PORT_ATTEMPTS && started.exitedLogging(PORT_TAKEN)) {
                    LOG.debug("Port {} was taken before epmd could bind it; trying another", candidate);
                    continue;
                }
                throw e;
            }
        }
    }

    private static boolean accepts(int port) {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port),
                    (int) CONNECT_TIMEOUT.toMillis());
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private synchronized void stopProcess() {
        ServerProcess running = process;
        if (running != null) {
            running.stop(STOP_GRACE);
        }
    }
}
