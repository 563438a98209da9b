package io.settler.zerotrust.cli;

import static io.settler.zerotrust.cli.ZtRun.inProcess;
import static io.settler.zerotrust.cli.ZtRun.process;
import static org.assertj.core.api.Assertions.assertThat;

import io.settler.zerotrust.pki.CertificateDefect;
import io.settler.zerotrust.pki.DevCertificateAuthority;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CertCommandTest {

    private static final DevCertificateAuthority CA = DevCertificateAuthority.create("example.org");

    @TempDir
    Path dir;

    @Test
    void showsIdentitySansUsageValidityAndFingerprint() throws Exception {
        CA.leaf("api").server().dnsNames("localhost").issue().writePem(dir, "api");
        ZtRun.Result result = process("cert", "inspect", dir.resolve("api.crt"));
        assertThat(result.exit()).as(result.toString()).isZero();
        assertThat(result.out()).contains("identity:    spiffe://example.org/api")
                .contains("URI:spiffe://example.org/api, DNS:localhost").contains("EKU:         serverAuth")
                .contains("(valid now)").containsPattern("SHA-256: +[0-9a-f:]{20,}");
        assertThat(result.err()).isEmpty();
    }

    @Test
    void acceptsALeafOfTheTrustedCaUnderTheExpectedName() throws Exception {
        CA.leaf("api").server().dnsNames("localhost").issue().writePem(dir, "api");
        ZtRun.Result result = inProcess("cert", "inspect", dir.resolve("api.crt"), "--trust", dir.resolve("ca.crt"),
                "--expect", "spiffe://example.org/api");
        assertThat(result.exit()).as(result.toString()).isZero();
        assertThat(result.out()).contains("verdict:     ACCEPTED as a server named spiffe://example.org/api");
    }

    @Test
    void refusesACertificateFromAnotherCa() throws Exception {
        CA.writeCaBundle(dir.resolve("ca.crt"));
        DevCertificateAuthority.create("example.org").leaf("api").issue().writePem(dir.resolve("other"), "api");
        ZtRun.Result result = inProcess("cert", "inspect", dir.resolve("other/api.crt"), "--trust",
                dir.resolve("ca.crt"));
        assertThat(result.exit()).as(result.toString()).isEqualTo(1);
        assertThat(result.out()).contains("verdict:     REFUSED ");
    }

    @Test
    void refusesAnExpiredCertificate() throws Exception {
        CA.leaf("api").defect(CertificateDefect.EXPIRED).issue().writePem(dir, "api");
        ZtRun.Result result = inProcess("cert", "inspect", dir.resolve("api.crt"), "--trust", dir.resolve("ca.crt"));
        assertThat(result.exit()).as(result.toString()).isEqualTo(1);
        assertThat(result.out()).contains("(EXPIRED)").contains("verdict:     REFUSED ");
    }

    @Test
    void refusesTheWrongExpectedName() throws Exception {
        CA.leaf("api").issue().writePem(dir, "api");
        ZtRun.Result result = inProcess("cert", "inspect", dir.resolve("api.crt"), "--trust", dir.resolve("ca.crt"),
                "--expect", "spiffe://example.org/billing");
        assertThat(result.exit()).as(result.toString()).isEqualTo(1);
        assertThat(result.out()).contains("verdict:     REFUSED ");
    }

    @Test
    void usageErrorsExitTwoWithOneLine() throws Exception {
        ZtRun.Result missing = inProcess("cert", "inspect", dir.resolve("nope.crt"));
        assertThat(missing.exit()).as(missing.toString()).isEqualTo(2);
        assertThat(missing.err().strip()).doesNotContain("\n").contains("is not a file");
        ZtRun.Result noFile = inProcess("cert", "inspect");
        assertThat(noFile.exit()).as(noFile.toString()).isEqualTo(2);
        assertThat(noFile.err()).contains("Missing required parameter").doesNotContain("\tat ");
        CA.leaf("api").issue().writePem(dir, "api");
        ZtRun.Result expectWithoutTrust = inProcess("cert", "inspect", dir.resolve("api.crt"), "--expect", "localhost");
        assertThat(expectWithoutTrust.exit()).as(expectWithoutTrust.toString()).isEqualTo(2);
        assertThat(expectWithoutTrust.err()).contains("--expect needs --trust");
    }

    @Test
    void helpDocumentsTheExitCodes() throws Exception {
        ZtRun.Result result = inProcess("cert", "inspect", "--help");
        assertThat(result.exit()).as(result.toString()).isZero();
        assertThat(result.out()).contains("Exit codes:").contains("--trust").contains("--expect");
    }
}
