package io.settler.zerotrust.cli;

import static io.settler.zerotrust.cli.ZtRun.inProcess;
import static io.settler.zerotrust.cli.ZtRun.process;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CaCommandTest {

    @TempDir
    Path dir;

    @Test
    void initThenIssueGivesALeafTheCertInspectionAccepts() throws Exception {
        Path ca = dir.resolve("ca");
        ZtRun.Result init = process("ca", "init", ca, "--trust-domain", "example.org");
        assertThat(init.exit()).as(init.toString()).isZero();
        assertThat(init.out()).startsWith("DEVELOPMENT ONLY");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(ca.resolve("ca.key"))))
                .isEqualTo("rw-------");

        Path out = dir.resolve("certs");
        ZtRun.Result issue = process("ca", "issue", "api", "--ca", ca, "--out", out, "--dns", "localhost",
                "--ip", "127.0.0.1");
        assertThat(issue.exit()).as(issue.toString()).isZero();
        assertThat(issue.out()).startsWith("DEVELOPMENT ONLY").contains("issued spiffe://example.org/api");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(out.resolve("api.key"))))
                .isEqualTo("rw-------");

        ZtRun.Result inspect = inProcess("cert", "inspect", out.resolve("api.crt"), "--trust", ca.resolve("ca.crt"),
                "--expect", "127.0.0.1");
        assertThat(inspect.exit()).as(inspect.toString()).isZero();
        assertThat(inspect.out()).contains("ACCEPTED");
    }

    @Test
    void anIntermediateCaIssuesChainsTheRootAccepts() throws Exception {
        Path ca = dir.resolve("ca");
        assertThat(inProcess("ca", "init", ca, "--trust-domain", "example.org", "--intermediate").exit()).isZero();
        assertThat(inProcess("ca", "issue", "ns/prod/api", "--ca", ca, "--out", dir, "--usage", "client").exit())
                .isZero();
        ZtRun.Result inspect = inProcess("cert", "inspect", dir.resolve("ns-prod-api.crt"),
                "--trust", ca.resolve("ca.crt"));
        assertThat(inspect.exit()).as(inspect.toString()).isZero();
        assertThat(inspect.out()).contains("spiffe://example.org/ns/prod/api").contains("1 more certificate");
    }

    @Test
    void helpSaysDevelopmentOnly() throws Exception {
        ZtRun.Result help = inProcess("ca", "--help");
        assertThat(help.exit()).as(help.toString()).isZero();
        assertThat(help.out()).contains("DEVELOPMENT-ONLY");
        assertThat(inProcess("ca", "issue", "--help").out()).contains("DEVELOPMENT ONLY");
    }

    @Test
    void usageErrorsExitTwo() throws Exception {
        Path ca = dir.resolve("ca");
        assertThat(inProcess("ca", "init", ca, "--trust-domain", "example.org").exit()).isZero();
        ZtRun.Result again = inProcess("ca", "init", ca, "--trust-domain", "example.org");
        assertThat(again.exit()).as(again.toString()).isEqualTo(2);
        assertThat(again.err().strip()).doesNotContain("\n").contains("already holds a CA");
        ZtRun.Result noCa = inProcess("ca", "issue", "api", "--ca", dir.resolve("nothing"), "--out", dir);
        assertThat(noCa.exit()).as(noCa.toString()).isEqualTo(2);
        ZtRun.Result emptyCa = inProcess("ca", "issue", "api", "--ca", dir, "--out", dir);
        assertThat(emptyCa.exit()).as(emptyCa.toString()).isEqualTo(2);
        assertThat(emptyCa.err()).contains("ca.crt").doesNotContain("\tat ");
        ZtRun.Result badService = inProcess("ca", "issue", "API!", "--ca", ca, "--out", dir);
        assertThat(badService.exit()).as(badService.toString()).isEqualTo(2);
        ZtRun.Result badDomain = inProcess("ca", "init", dir.resolve("ca2"), "--trust-domain", "Not A Domain");
        assertThat(badDomain.exit()).as(badDomain.toString()).isEqualTo(2);
    }
}
