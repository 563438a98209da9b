package io.settler.zerotrust.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The demo as a process: its exit status, and Ctrl-C stopping every server it started. */
class DemoProcessIT {

    private static final Pattern DIRECTORY = Pattern.compile("deployment files in (\\S+)\\)");

    @Test
    void exitsNonZeroWhenItCannotRunAndOnAWrongCommandLine(@TempDir Path empty) throws Exception {
        Process missing = demo("--deployment", empty.resolve("missing").toString());
        String output = new String(missing.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(missing.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(missing.exitValue()).as(output).isEqualTo(1);
        assertThat(output).contains("The demo could not run");

        Process usage = demo("--frobnicate");
        String usageOutput = new String(usage.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(usage.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(usage.exitValue()).isEqualTo(2);
        assertThat(usageOutput).contains("usage: demo");
    }

    @Test
    void ctrlCStopsEverythingTheDemoStarted() throws Exception {
        Process demo = demo();
        CountDownLatch servicesStarting = new CountDownLatch(1);
        StringBuilder output = new StringBuilder();
        Path[] directory = new Path[1];
        Thread reader = new Thread(() -> {
            try (BufferedReader lines = new BufferedReader(
                    new InputStreamReader(demo.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line = lines.readLine(); line != null; line = lines.readLine()) {
                    synchronized (output) {
                        output.append(line).append('\n');
                    }
                    Matcher found = DIRECTORY.matcher(line);
                    if (found.find()) {
                        directory[0] = Path.of(found.group(1));
                    }
                    if (line.contains("starting the webhook receiver")) {
                        servicesStarting.countDown();
                    }
                }
            } catch (java.io.IOException ignored) {
                // the process ended
            }
        });
        reader.start();
        try {
            assertThat(servicesStarting.await(120, TimeUnit.SECONDS))
                    .as("the demo reached its services; it printed:%n%s", output).isTrue();
            List<ProcessHandle> servers = demo.descendants().toList();
            assertThat(servers).as("PostgreSQL and Redis run as the demo's child processes").isNotEmpty();

            new ProcessBuilder("kill", "-INT", Long.toString(demo.pid())).start().waitFor(); // Ctrl-C
            assertThat(demo.waitFor(60, TimeUnit.SECONDS)).as("the demo exits after Ctrl-C").isTrue();
            for (ProcessHandle server : servers) {
                server.onExit().get(30, TimeUnit.SECONDS);
                assertThat(server.isAlive()).as("server process %s", server.pid()).isFalse();
            }
            assertThat(directory[0]).isNotNull();
            assertThat(Files.exists(directory[0])).as("the deployment directory is removed").isFalse();
        } finally {
            demo.descendants().forEach(ProcessHandle::destroyForcibly);
            demo.destroyForcibly();
            reader.join(10_000);
        }
    }

    private static Process demo(String... args) throws java.io.IOException {
        String classPath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        List<String> command = new java.util.ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp", classPath,
                Demo.class.getName()));
        command.addAll(List.of(args));
        return new ProcessBuilder(command).redirectErrorStream(true).start();
    }
}
