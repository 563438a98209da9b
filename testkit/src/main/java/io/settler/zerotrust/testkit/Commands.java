package io.settler.zerotrust.testkit;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Runs short-lived helper programs (initdb, pg_ctl, psql, rabbitmqctl) with a clean environment and a timeout. */
final class Commands {

    private Commands() {
    }

    /** What a finished command printed, and how it exited. */
    record Result(int exitCode, String stdout, String stderr) {
        boolean succeeded() {
            return exitCode == 0;
        }

        /** Both outputs, for error messages (the commands run never print secrets). */
        String output() {
            return (stdout + (stdout.isEmpty() || stderr.isEmpty() ? "" : "\n") + stderr).strip();
        }
    }

    /**
     * Runs {@code command} in {@code directory}, feeding it {@code stdin}, and waits for it.
     *
     * @throws TestkitException if it cannot be started or does not finish within {@code timeout}
     */
    static Result run(List<String> command, Path directory, Map<String, String> environment, String stdin,
                      Duration timeout) {
        ProcessBuilder builder = new ProcessBuilder(command).directory(directory.toFile());
        cleanEnvironment(builder.environment(), directory);
        builder.environment().putAll(environment);
        Process process;
        try {
            process = builder.start();
        } catch (IOException e) {
            throw new TestkitException(TestkitException.Reason.COMMAND_FAILED, "cannot run " + command.get(0), e);
        }
        try {
            Drain stdout = new Drain(process.getInputStream());
            Drain stderr = new Drain(process.getErrorStream());
            stdout.start();
            stderr.start();
            try (OutputStream in = process.getOutputStream()) {
                in.write(stdin.getBytes(StandardCharsets.UTF_8));
            } catch (IOException e) {
                // The program exited without reading its input; its exit code tells why.
            }
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new TestkitException(TestkitException.Reason.COMMAND_FAILED,
                        String.join(" ", command) + " did not finish within " + timeout);
            }
            stdout.join(timeout.toMillis());
            stderr.join(timeout.toMillis());
            return new Result(process.exitValue(), stdout.text(), stderr.text());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TestkitException(TestkitException.Reason.COMMAND_FAILED,
                    "interrupted while waiting for " + command.get(0), e);
        } finally {
            if (process.isAlive()) {
                process.destroyForcibly();
            }
        }
    }

    /**
     * Removes inherited settings that would change what the programs do (PG* connection variables,
     * Redis CLI settings, Erlang and RabbitMQ settings such as ERL_FLAGS or RABBITMQ_NODENAME, locale),
     * and points HOME at the server directory so no user's rc, password or Erlang cookie files are read.
     */
    static void cleanEnvironment(Map<String, String> environment, Path home) {
        environment.keySet().removeIf(key -> key.startsWith("PG") || key.startsWith("LC_") || key.equals("LANG")
                || key.startsWith("REDISCLI") || key.startsWith("ERL_") || key.startsWith("RABBITMQ_"));
        environment.put("LANG", "C");
        environment.put("LC_ALL", "C");
        environment.put("HOME", home.toString());
    }

    /** Reads a stream to its end on its own thread, so neither pipe can fill up and block the program. */
    private static final class Drain extends Thread {
        private final InputStream in;
        private final ByteArrayOutputStream buffer = new ByteArrayOutputStream();

        Drain(InputStream in) {
            super("settler-testkit-drain");
            setDaemon(true);
            this.in = in;
        }

        @Override
        public void run() {
            try (in) {
                in.transferTo(buffer);
            } catch (IOException e) {
                // The program closed its end; keep what was read.
            }
        }

        String text() {
            return buffer.toString(StandardCharsets.UTF_8);
        }
    }
}
