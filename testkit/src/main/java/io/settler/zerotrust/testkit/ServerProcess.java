package io.settler.zerotrust.testkit;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** A long-running server process whose output goes to a log file, with readiness polling. */
final class ServerProcess {

    private static final long POLL_MILLIS = 25;
    private static final int LOG_TAIL_LINES = 40;
    private static final Duration EXIT_TIMEOUT = Duration.ofSeconds(10);

    private final Process process;
    private final Path log;
    private final String name;

    private ServerProcess(Process process, Path log, String name) {
        this.process = process;
        this.log = log;
        this.name = name;
    }

    /**
     * Starts {@code command} with stdout and stderr appended to {@code log}.
     *
     * @param name what to call the server in messages, e.g. {@code PostgreSQL}
     * @param executable the server program the process ends up running (after any setpriv)
     */
    static ServerProcess start(String name, List<String> command, Path executable, ServerDirectory directory,
                               Path log, Map<String, String> environment) {
        return start(name, command, executable, directory, directory.path(), log, environment);
    }

    /**
     * Starts {@code command} in {@code workingDirectory} (inside {@code directory}, e.g. one the
     * server's OS user may list, which an Erlang VM insists on), with stdout and stderr appended to
     * {@code log}.
     */
    static ServerProcess start(String name, List<String> command, Path executable, ServerDirectory directory,
                               Path workingDirectory, Path log, Map<String, String> environment) {
        ProcessBuilder builder = new ProcessBuilder(command)
                .directory(workingDirectory.toFile())
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
        Commands.cleanEnvironment(builder.environment(), directory.path());
        builder.environment().putAll(environment);
        try {
            Process process = builder.start();
            directory.recordServer(process.toHandle(), executable);
            return new ServerProcess(process, log, name);
        } catch (IOException e) {
            throw new TestkitException(TestkitException.Reason.START_FAILED, "cannot start " + command.get(0), e);
        }
    }

    long pid() {
        return process.pid();
    }

    boolean isAlive() {
        return process.isAlive();
    }

    ProcessHandle handle() {
        return process.toHandle();
    }

    /** Whether the server exited because its port was taken (so a retry on another port may work). */
    boolean lostPortRace() {
        return exitedLogging("Address already in use");
    }

    /**
     * Whether the server exited and its log holds one of {@code markers}, e.g. the words a server
     * uses for a port that was taken ({@code eaddrinuse} for RabbitMQ).
     */
    boolean exitedLogging(String... markers) {
        try {
            if (process.isAlive()) {
                return false;
            }
            String text = Files.readString(log);
            return Arrays.stream(markers).anyMatch(text::contains);
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * Polls {@code ready} until it returns true.
     *
     * @throws TestkitException with the log tail if the process exits or the timeout passes first
     */
    void awaitReady(Duration timeout, Callable<Boolean> ready) {
        long deadline = System.nanoTime() + timeout.toNanos();
        Exception lastFailure = null;
        while (true) {
            if (!process.isAlive()) {
                throw new TestkitException(TestkitException.Reason.START_FAILED, name + " exited with code "
                        + process.exitValue() + " while starting. Last lines of " + log + ":\n" + logTail());
            }
            try {
                if (ready.call()) {
                    return;
                }
            } catch (Exception e) {
                lastFailure = e;
            }
            if (System.nanoTime() > deadline) {
                throw new TestkitException(TestkitException.Reason.START_FAILED, name + " was not ready within "
                        + timeout + ". Last lines of " + log + ":\n" + logTail(), lastFailure);
            }
            try {
                Thread.sleep(POLL_MILLIS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new TestkitException(TestkitException.Reason.START_FAILED,
                        "interrupted while waiting for " + name, e);
            }
        }
    }

    String logTail() {
        return ServerDirectory.tail(log, LOG_TAIL_LINES);
    }

    /** Waits up to {@code timeout} for the process to exit; true if it did. */
    boolean awaitExit(Duration timeout) {
        try {
            return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return !process.isAlive();
        }
    }

    /** SIGTERM, then after {@code grace} SIGKILL for the process and everything it started. */
    void stop(Duration grace) {
        if (process.isAlive() || process.toHandle().descendants().findAny().isPresent()) {
            ServerDirectory.stopProcessTree(process.toHandle(), grace);
            awaitExit(grace);
        }
    }

    /** SIGKILL for the process and everything it started, at once. */
    void kill() {
        process.toHandle().descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
        awaitExit(Duration.ofSeconds(5));
    }

    /**
     * A crash: SIGSTOP first (so the server starts nothing new and reacts to nothing), then SIGKILL
     * for the process and everything it started; returns once all of them are gone.
     */
    void crash() {
        ProcessHandle root = process.toHandle();
        signal("STOP", List.of(root));
        List<ProcessHandle> all = new ArrayList<>(root.descendants().toList());
        all.add(0, root);
        signal("KILL", all);
        for (ProcessHandle each : all) {
            try {
                each.onExit().get(EXIT_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (ExecutionException | TimeoutException e) {
                throw new TestkitException(TestkitException.Reason.COMMAND_FAILED,
                        name + " process " + each.pid() + " survived SIGKILL for " + EXIT_TIMEOUT);
            }
        }
    }

    /**
     * SIGSTOP for the process, then for everything it started: the server is frozen (connections
     * stay open, nothing answers) until {@link FrozenServer#close()} sends SIGCONT.
     */
    FrozenServer freeze() {
        ProcessHandle root = process.toHandle();
        signal("STOP", List.of(root));
        List<ProcessHandle> all = new ArrayList<>(root.descendants().toList());
        all.add(0, root);
        signal("STOP", all);
        return new FrozenServer(name, all);
    }

    /** {@code kill -<signal>} for {@code processes}; processes that are gone already are skipped. */
    static void signal(String signal, List<ProcessHandle> processes) {
        List<String> command = new ArrayList<>(List.of(killCommand().toString(), "-" + signal));
        processes.stream().filter(ProcessHandle::isAlive).forEach(p -> command.add(Long.toString(p.pid())));
        if (command.size() == 2) {
            return;
        }
        // A process that exits between the filter and the kill makes kill complain; that is fine.
        Commands.run(command, Path.of("/"), Map.of(), "", EXIT_TIMEOUT);
    }

    private static Path killCommand() {
        return Binaries.find("kill", "procps", List.of(Path.of("/usr/bin"), Path.of("/bin")), "in /usr/bin or /bin");
    }
}
