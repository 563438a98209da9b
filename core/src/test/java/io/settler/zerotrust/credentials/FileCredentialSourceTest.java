package io.settler.zerotrust.credentials;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.settler.zerotrust.audit.AuditEvent;
import io.settler.zerotrust.audit.AuditLog;
import io.settler.zerotrust.pki.DevCertificateAuthority;
import io.settler.zerotrust.pki.IssuedCertificate;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileCredentialSourceTest {

    private static final DevCertificateAuthority CA = DevCertificateAuthority.create("example.org");

    @TempDir
    Path dir;

    private final List<AuditEvent> audit = new CopyOnWriteArrayList<>();

    private FileCredentialSource start(Path directory) {
        return FileCredentialSource.builder(directory.resolve("tls.crt"), directory.resolve("tls.key"),
                        directory.resolve("ca.crt"))
                .quietPeriod(Duration.ofMillis(100)).auditLog(AuditLog.slf4j().alsoTo(audit::add)).start();
    }

    private static void write(IssuedCertificate issued, Path directory) {
        issued.writePem(directory, "tls");
    }

    @Test
    void rotatesWhenTheFilesChangeAndTellsListeners() throws Exception {
        IssuedCertificate first = CA.leaf("api").issue();
        IssuedCertificate second = CA.leaf("api").issue();
        write(first, dir);
        try (FileCredentialSource source = start(dir)) {
            CountDownLatch rotated = new CountDownLatch(1);
            source.onRotation(snapshot -> rotated.countDown());

            write(second, dir);

            assertThat(rotated.await(10, TimeUnit.SECONDS)).as("rotation seen by the watcher").isTrue();
            assertThat(source.current().identity().certificate()).isEqualTo(second.certificate());
            assertThat(source.current().generation()).isEqualTo(2);
            assertThat(audit).filteredOn(e -> e.action().equals("credentials.rotated")).singleElement()
                    .satisfies(e -> assertThat(e.fields()).containsEntry("generation", "2"));
        }
    }

    @Test
    void keepsTheLastGoodSetWhenOnlyTheCertificateChanged() throws Exception {
        IssuedCertificate first = CA.leaf("api").issue();
        write(first, dir);
        try (FileCredentialSource source = start(dir)) {
            // A new chain whose key has not been written yet: the pair no longer matches.
            Files.writeString(dir.resolve("tls.crt"), CA.leaf("api").issue().chainPem());

            assertThat(source.reload()).isFalse();

            assertThat(source.current().identity().certificate()).isEqualTo(first.certificate());
            assertThat(source.current().generation()).isEqualTo(1);
            assertThat(audit).filteredOn(e -> e.action().equals("credentials.rotation_refused")).isNotEmpty()
                    .allSatisfy(e -> assertThat(e.fields()).containsEntry("reason", "KEY_MISMATCH"));
        }
    }

    @Test
    void keepsTheLastGoodSetWhenTheNewFilesAreBroken() throws Exception {
        IssuedCertificate first = CA.leaf("api").issue();
        write(first, dir);
        try (FileCredentialSource source = start(dir)) {
            Files.writeString(dir.resolve("tls.key"), "-----BEGIN PRIVATE KEY-----\ngarbage\n");

            assertThat(source.reload()).isFalse();
            assertThat(source.current().identity().certificate()).isEqualTo(first.certificate());
        }
    }

    @Test
    void doesNotRotateWhenNothingChanged() throws Exception {
        write(CA.leaf("api").issue(), dir);
        try (FileCredentialSource source = start(dir)) {
            assertThat(source.reload()).isFalse();
            assertThat(source.current().generation()).isEqualTo(1);
        }
    }

    @Test
    void followsAKubernetesSecretSymlinkSwap() throws Exception {
        // The kubelet's layout: files are links into ..data, itself a link to a timestamped folder.
        Path v1 = Files.createDirectory(dir.resolve("..2026_11_28_v1"));
        write(CA.leaf("api").issue(), v1);
        Files.createSymbolicLink(dir.resolve("..data"), v1.getFileName());
        for (String name : List.of("tls.crt", "tls.key", "ca.crt")) {
            Files.createSymbolicLink(dir.resolve(name), Path.of("..data", name));
        }
        try (FileCredentialSource source = start(dir)) {
            CountDownLatch rotated = new CountDownLatch(1);
            source.onRotation(snapshot -> rotated.countDown());
            IssuedCertificate second = CA.leaf("api").issue();
            Path v2 = Files.createDirectory(dir.resolve("..2026_11_28_v2"));
            write(second, v2);

            Path tmp = Files.createSymbolicLink(dir.resolve("..data_tmp"), v2.getFileName());
            Files.move(tmp, dir.resolve("..data"), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);

            assertThat(rotated.await(10, TimeUnit.SECONDS)).as("rotation seen through the symlink swap").isTrue();
            assertThat(source.current().identity().certificate()).isEqualTo(second.certificate());
        }
    }

    @Test
    void refusesToStartWithoutAValidSet() throws Exception {
        write(CA.leaf("api").issue(), dir);
        Files.writeString(dir.resolve("tls.crt"), CA.leaf("other").issue().chainPem());

        assertThatThrownBy(() -> start(dir))
                .isInstanceOf(CredentialException.class)
                .satisfies(e -> assertThat(((CredentialException) e).reason())
                        .isEqualTo(CredentialException.Reason.KEY_MISMATCH));
    }
}
