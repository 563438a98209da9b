package io.settler.zerotrust.cli;

import static io.settler.zerotrust.cli.ZtRun.inProcess;
import static io.settler.zerotrust.cli.ZtRun.process;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ZtTest {

    @Test
    void helpListsTheCommandsAndExitCodes() throws Exception {
        ZtRun.Result result = process("--help");
        assertThat(result.exit()).as(result.toString()).isZero();
        assertThat(result.out()).contains("cert").contains("policy").contains("token").contains("ca")
                .contains("render").contains("drift").contains("Exit codes:").contains("3   could not check");
    }

    @Test
    void anUnknownCommandIsAUsageError() throws Exception {
        ZtRun.Result result = inProcess("frobnicate");
        assertThat(result.exit()).as(result.toString()).isEqualTo(2);
        assertThat(result.err().strip()).doesNotContain("\n").contains("frobnicate");
    }

    @Test
    void anErrorIsOneLineAndVerboseAddsTheStackTrace(@TempDir Path dir) throws Exception {
        Path ca = dir.resolve("ca");
        assertThat(inProcess("ca", "init", ca, "--trust-domain", "example.org").exit()).isZero();
        Path file = Files.writeString(dir.resolve("file"), "");
        // Not a usage error: the library cannot write under a file (exit 1, "error:").
        ZtRun.Result quiet = inProcess("ca", "issue", "api", "--ca", ca, "--out", file.resolve("certs"));
        assertThat(quiet.exit()).as(quiet.toString()).isEqualTo(1);
        assertThat(quiet.err().strip()).doesNotContain("\n").startsWith("zt: error: cannot write ")
                .contains("Exception: " + file) // what is in the way, not only where it failed
                .endsWith("(--verbose shows the stack trace)");

        ZtRun.Result verbose = inProcess("ca", "issue", "api", "--ca", ca, "--out", file.resolve("certs"), "--verbose");
        assertThat(verbose.exit()).as(verbose.toString()).isEqualTo(1);
        assertThat(verbose.err().lines().findFirst()).as(verbose.toString())
                .hasValueSatisfying(line -> assertThat(line).startsWith("zt: error: cannot write ")
                        .doesNotContain("--verbose"));
        assertThat(verbose.err()).as(verbose.toString()).contains("\tat io.settler.zerotrust.cli.CaCommand$Issue.call(")
                .contains("Caused by: java.nio.file.");
    }

    @Test
    void generatesACompletionScript() throws Exception {
        ZtRun.Result result = process("generate-completion");
        assertThat(result.exit()).as(result.toString()).isZero();
        assertThat(result.out()).contains("complete -F");
    }
}
