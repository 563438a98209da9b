package io.settler.zerotrust.benchmarks.spring;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A benchmarked Boot application in a JVM of its own ({@link BenchmarkServer}), on this JVM's class path:
 * the client's JVM and each server's JIT profile, heap and garbage collector stay apart, as they would in
 * production. Its output goes to {@code <application>.log} in the benchmark's directory.
 */
final class ServerProcess {

    /** Long enough for a Boot start on a busy two-CPU machine. */
    private static final Duration START_TIMEOUT = Duration.ofMinutes(2);
    /**
     * The environment variable whose JVM options (split at white space) every server also gets, e.g.
     * {@code -XX:StartFlightRecording=delay=50s,dumponexit=true,filename=/tmp/servers} to profile the servers
     * alone (one recording per server in that directory, written when it stops).
     */
    static final String JAVA_OPTIONS = "BENCH_SERVER_JAVA_OPTIONS";
    /** The same heap for every server, so that none is favoured by a larger one. */
    private static final String HEAP = "-Xmx512m";

    private final Process process;
    private final Path log;
    private final int port;

    private ServerProcess(Process process, Path log, int port) {
        this.process = process;
        this.log = log;
        this.port = port;
    }

    /**
     * Starts {@code application} with these Spring properties and waits until its server listens.
     *
     * @throws IllegalStateException if it exits or does not listen within two minutes (the message
     *     ends with its output)
     */
    static ServerProcess start(String application, Path directory, Map<String, Object> properties)
            throws IOException, InterruptedException {
        Path portFile = directory.resolve(application + ".port");
        Path log = directory.resolve(application + ".log");
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), HEAP,
                "-cp", System.getProperty("java.class.path"), BenchmarkServer.class.getName(),
                application, portFile.toString()));
        String options = System.getenv(JAVA_OPTIONS);
        if (options != null && !options.isBlank()) {
            command.addAll(1, List.of(options.strip().split("\\s+")));
        }
        properties.forEach((name, value) -> command.add("--" + name + "=" + value));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        Instant deadline = Instant.now().plus(START_TIMEOUT);
        while (Instant.now().isBefore(deadline)) {
            if (!process.isAlive()) {
                throw new IllegalStateException(application + " exited with status " + process.exitValue()
                        + " before it listened; its output:\n" + Files.readString(log));
            }
            if (Files.exists(portFile)) {
                String written = Files.readString(portFile).strip();
                if (!written.isEmpty()) {
                    return new ServerProcess(process, log, Integer.parseInt(written));
                }
            }
            Thread.sleep(100);
        }
        process.destroyForcibly();
        throw new IllegalStateException(application + " did not listen within " + START_TIMEOUT.toSeconds()
                + " s; its output:\n" + Files.readString(log));
    }

    /** The port its HTTPS server listens on, on 127.0.0.1. */
    int port() {
        return port;
    }

    /** The CPU time it has used so far (all its threads, user and system). */
    Duration cpuTime() {
        return process.info().totalCpuDuration().orElseThrow(
                () -> new IllegalStateException("this system does not report a process's CPU time"));
    }

    /** Its output so far, for a failure's message. */
    String output() throws IOException {
        return Files.readString(log);
    }

    /** Stops it as an operator would (Boot's graceful shutdown), forcibly after 30 s. */
    void stop() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor();
        }
    }
}
