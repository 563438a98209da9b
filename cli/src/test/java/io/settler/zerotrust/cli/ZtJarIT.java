package io.settler.zerotrust.cli;

import static io.settler.zerotrust.cli.ZtRun.inProcess;
import static io.settler.zerotrust.cli.ZtRun.jar;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shaded {@code zt.jar} as {@code bin/zt} runs it ({@code java -jar}), after {@code package}:
 * its manifest (main class, version), its merged service files (one SLF4J provider, no warning) and
 * Bouncy Castle without its signatures. The commands themselves are the unit tests' (on the class path).
 */
class ZtJarIT {

    @TempDir
    Path dir;

    @Test
    void versionIsTheProjects() throws Exception {
        ZtRun.Result result = jar("--version");
        assertThat(result.exit()).as(result.toString()).isZero();
        assertThat(result.out().strip()).as(result.toString()).isEqualTo("zt " + System.getProperty("zt.version"));
        assertThat(result.err()).as("nothing on standard error, e.g. SLF4J about providers").isEmpty();
    }

    @Test
    void helpListsTheCommands() throws Exception {
        ZtRun.Result result = jar("--help");
        assertThat(result.exit()).as(result.toString()).isZero();
        assertThat(result.out()).contains("cert").contains("policy").contains("token").contains("render")
                .contains("drift").contains("Exit codes:");
    }

    @Test
    void caInitWritesACaTheLibraryIssuesFrom() throws Exception {
        Path ca = dir.resolve("ca");
        ZtRun.Result init = jar("ca", "init", ca, "--trust-domain", "example.org");
        assertThat(init.exit()).as(init.toString()).isZero();
        assertThat(init.out()).startsWith("DEVELOPMENT ONLY");
        assertThat(init.err()).as(init.toString()).isEmpty();
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(ca.resolve("ca.key"))))
                .isEqualTo("rw-------");

        // What the jar wrote is a CA: a leaf issued from it is accepted against its ca.crt.
        assertThat(inProcess("ca", "issue", "api", "--ca", ca, "--out", dir, "--dns", "localhost").exit()).isZero();
        ZtRun.Result inspect = inProcess("cert", "inspect", dir.resolve("api.crt"), "--trust", ca.resolve("ca.crt"),
                "--expect", "localhost");
        assertThat(inspect.exit()).as(inspect.toString()).isZero();
        assertThat(inspect.out()).contains("ACCEPTED");
    }
}
