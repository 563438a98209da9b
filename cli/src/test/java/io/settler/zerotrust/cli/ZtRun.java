package io.settler.zerotrust.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs {@code zt} for a test, in one of three ways with one result: {@link #process} as its own JVM,
 * what an operator runs ({@code main}, {@code System.exit}, the process's own logging), at the cost
 * of a JVM start; {@link #inProcess} through {@link Zt#run(PrintWriter, PrintWriter, String...)} in
 * this JVM, for usage errors and the other cases a process adds nothing to; {@link #jar} as
 * {@code java -jar zt.jar}, the shaded jar {@code bin/zt} starts (integration tests only: the jar is
 * built in {@code package}, after the unit tests). Each command and subcommand runs as a process in at
 * least one test.
 */
final class ZtRun {

    /**
     * The child JVM starts faster with only the client compiler (a run is short), the serial
     * collector (one thread) and the JDK's class data sharing archive.
     */
    private static final List<String> CHILD_JVM = List.of("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
            "-Xshare:auto");

    /**
     * The test class path also holds the testkit's logback: name zt's own SLF4J provider, the only one
     * in its jar, so SLF4J does not warn about two (and does not say which it took). The jar runs
     * without: it must hold one provider.
     */
    private static final List<String> CLASS_PATH_SLF4J = List.of(
            "-Dslf4j.provider=org.slf4j.simple.SimpleServiceProvider", "-Dslf4j.internal.verbosity=WARN");

    /** The system property the cli module's failsafe configuration sets to the shaded jar's path. */
    static final String JAR_PROPERTY = "zt.jar";

    private ZtRun() {
    }

    /** What a run printed, and how it ended. */
    record Result(int exit, String out, String err) {
        @Override
        public String toString() {
            return "exit " + exit + "\n--- stdout\n" + out + "--- stderr\n" + err;
        }
    }

    /** {@code zt} as its own process, with this JVM's {@code java} and the test class path. */
    static Result process(Object... args) throws IOException, InterruptedException {
        String classPath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        List<String> launch = new ArrayList<>(CLASS_PATH_SLF4J);
        launch.addAll(List.of("-cp", classPath, Zt.class.getName()));
        return run(launch, args);
    }

    /** {@code java -jar} of the shaded jar the system property {@value #JAR_PROPERTY} names. */
    static Result jar(Object... args) throws IOException, InterruptedException {
        String jar = System.getProperty(JAR_PROPERTY);
        if (jar == null) {
            throw new IllegalStateException("no -D" + JAR_PROPERTY + ": run by failsafe (./mvnw -pl cli verify), whose"
                    + " configuration in cli/pom.xml names the shaded jar");
        }
        return run(List.of("-jar", jar), args);
    }

    private static Result run(List<String> launch, Object... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(CHILD_JVM);
        command.addAll(launch);
        command.addAll(Arrays.asList(strings(args)));
        Process process = new ProcessBuilder(command).redirectInput(ProcessBuilder.Redirect.from(
                Path.of("/dev/null").toFile())).start();
        process.getOutputStream().close();
        // Small outputs: the pipes' buffers hold them until the process ends.
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("zt " + command + " did not end within 60 s");
        }
        return new Result(process.exitValue(),
                new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8),
                new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8));
    }

    /** {@code zt} in this JVM, with standard output and error of its own. */
    static Result inProcess(Object... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = Zt.run(new PrintWriter(out, true), new PrintWriter(err, true), strings(args));
        return new Result(exit, out.toString(), err.toString());
    }

    private static String[] strings(Object... args) {
        return Arrays.stream(args).map(Object::toString).toArray(String[]::new);
    }
}
