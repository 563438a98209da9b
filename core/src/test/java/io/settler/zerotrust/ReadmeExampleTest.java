package io.settler.zerotrust;

import static org.assertj.core.api.Assertions.assertThat;

import io.settler.zerotrust.identity.ServiceIdentity;
import io.settler.zerotrust.pki.CertificateDefect;
import io.settler.zerotrust.pki.DevCertificateAuthority;
import io.settler.zerotrust.pki.IssuedCertificate;
import io.settler.zerotrust.pki.PemFiles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The README's ten-line example, kept here so it compiles and runs; copy changes to the README. */
class ReadmeExampleTest {

    @Test
    void readmeExampleRuns(@TempDir Path workDir) {
        Path certs = workDir.resolve("certs");
        // --- README example starts (with Path.of("certs") for `certs`) ---
        DevCertificateAuthority ca = DevCertificateAuthority.create("example.org");
        IssuedCertificate api = ca.leaf("api")                  // spiffe://example.org/api, also the CN
                .serverAndClient()                              // EKU serverAuth + clientAuth
                .dnsNames("localhost").ipAddresses("127.0.0.1")
                .validity(Duration.ofHours(8))
                .issue();                                       // EC P-256 unless asked otherwise
        PemFiles files = api.writePem(certs, "api");            // api.crt, api.key (0600), ca.crt
        ServiceIdentity who = ServiceIdentity.parse("spiffe://example.org/api");
        IssuedCertificate expired = ca.leaf("api").defect(CertificateDefect.EXPIRED).issue(); // for tests
        // --- README example ends ---

        assertThat(api.identity()).isEqualTo(who);
        assertThat(Files.exists(files.privateKey())).isTrue();
        assertThat(expired.certificate().getNotAfter()).isBefore(api.certificate().getNotBefore());
    }
}
