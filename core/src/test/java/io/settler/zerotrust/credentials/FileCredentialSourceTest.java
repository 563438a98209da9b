package io.settler.zerotrust.credentials;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.settler.zerotrust.audit.AuditEvent;
import io.settler.zerotrust.audit.CoreTestAudit;
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
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileCredentialSourceTest {

    private static final DevCertificateAuthority CA = DevCertificateAuthority.create("example.org");

    @TempDir
    Path dir;

    private final List<AuditEvent> audit = new CopyOnWriteArrayList<>();

    private FileCredentialSource start(Path directory) {
        return start(directory, Duration.ofMillis(100));
    }

    /** A quiet period of an hour keeps the watcher out of tests that call reload themselves. */
    private FileCredentialSource startReloadedByHand(Path directory) {
        return start(directory, Duration.ofHours(1));
    }

    private FileCredentialSource start(Path directory, Duration quietPeriod) {
        return FileCredentialSource.builder(directory.resolve("tls.crt"), directory.resolve("tls.key"),
                        directory.resolve("ca.crt"))
                .quietPeriod(quietPeriod).auditLog(CoreTestAudit.into(audit)).start();
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

    @Test
    void halfWrittenPairIsNotAppliedAndIsRetriedOnTheNextChange() throws Exception {
        IssuedCertificate first = CA.leaf("api").issue();
        IssuedCertificate second = CA.leaf("api").issue();
        write(first, dir);
        try (FileCredentialSource source = start(dir)) {
            List<CredentialSnapshot> notified = new CopyOnWriteArrayList<>();
            source.onRotation(notified::add);

            Files.writeString(dir.resolve("tls.crt"), second.chainPem()); // the key follows later
            awaitEvent("credentials.rotation_refused", "KEY_MISMATCH");
            assertThat(source.current().identity().certificate()).isEqualTo(first.certificate());
            assertThat(notified).isEmpty();

            Files.writeString(dir.resolve("tls.key"), second.privateKeyPem());
            awaitEvent("credentials.rotated", null);
            assertThat(source.current().identity().certificate()).isEqualTo(second.certificate());
            assertThat(notified).singleElement().satisfies(s -> assertThat(s.generation()).isEqualTo(2));
        }
    }

    @Test
    void chainWrittenWithoutItsIntermediateIsRefused() throws Exception {
        DevCertificateAuthority withIntermediate = DevCertificateAuthority.builder("example.org")
                .withIntermediate().build();
        IssuedCertificate first = withIntermediate.leaf("api").issue();
        write(first, dir);
        try (FileCredentialSource source = startReloadedByHand(dir)) {
            IssuedCertificate second = withIntermediate.leaf("api").issue();
            // The leaf is written, its intermediate not yet: peers could not build a path.
            Files.writeString(dir.resolve("tls.crt"), TestPem.certificates(List.of(second.certificate())));
            Files.writeString(dir.resolve("tls.key"), second.privateKeyPem());

            Refusals.assertRefused(source::reloadOrThrow, CredentialException.Reason.UNTRUSTED_CHAIN,
                    dir.resolve("tls.crt"), "does not chain to the trust bundle in " + dir.resolve("ca.crt"));
            assertThat(source.current().identity().certificate()).isEqualTo(first.certificate());
            assertThat(audit).filteredOn(e -> e.action().equals("credentials.rotation_refused")).singleElement()
                    .satisfies(e -> assertThat(e.fields()).containsEntry("reason", "UNTRUSTED_CHAIN"));

            Files.writeString(dir.resolve("tls.crt"), second.chainPem());
            assertThat(source.reloadOrThrow()).isTrue();
            assertThat(source.current().identity().certificate()).isEqualTo(second.certificate());
        }
    }

    @Test
    void pairOfANewCaWrittenBeforeItsTrustBundleIsAppliedOnlyWithTheBundle() throws Exception {
        write(CA.leaf("api").issue(), dir);
        DevCertificateAuthority successor = DevCertificateAuthority.create("example.org");
        IssuedCertificate next = successor.leaf("api").issue();
        try (FileCredentialSource source = startReloadedByHand(dir)) {
            Files.writeString(dir.resolve("tls.crt"), next.chainPem());
            Files.writeString(dir.resolve("tls.key"), next.privateKeyPem());

            Refusals.assertRefused(source::reloadOrThrow, CredentialException.Reason.UNTRUSTED_CHAIN,
                    dir.resolve("tls.crt"), "another CA is not a rotation");
            assertThat(source.current().generation()).isEqualTo(1);

            Files.writeString(dir.resolve("ca.crt"), CA.caBundlePem() + successor.caBundlePem());
            assertThat(source.reloadOrThrow()).isTrue();
            assertThat(source.current().identity().certificate()).isEqualTo(next.certificate());
        }
    }

    @Test
    void refusesToStartWithAPairTheTrustBundleDoesNotAnchor() throws Exception {
        write(CA.leaf("api").issue(), dir);
        Files.writeString(dir.resolve("ca.crt"), DevCertificateAuthority.create("example.org").caBundlePem());

        Refusals.assertRefused(() -> start(dir), CredentialException.Reason.UNTRUSTED_CHAIN, dir.resolve("tls.crt"),
                "does not chain to the trust bundle in " + dir.resolve("ca.crt"));
    }

    /** Waits for the watcher to record {@code action} (with {@code reason}, unless null). */
    private void awaitEvent(String action, String reason) throws InterruptedException {
        Predicate<AuditEvent> wanted = e -> e.action().equals(action)
                && (reason == null || reason.equals(e.fields().get("reason")));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (audit.stream().noneMatch(wanted) && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertThat(audit).as("audit events").anyMatch(wanted);
    }

    @Test
    void zeroNegativeOrUnboundedWatchDurationsAreRefused() {
        FileCredentialSource.Builder builder = FileCredentialSource.builder(dir.resolve("tls.crt"),
                dir.resolve("tls.key"), dir.resolve("ca.crt"));
        for (Duration bad : List.of(Duration.ZERO, Duration.ofSeconds(-1))) {
            assertThatThrownBy(() -> builder.quietPeriod(bad)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("quietPeriod must be positive");
            assertThatThrownBy(() -> builder.recheckInterval(bad)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("recheckInterval must be positive");
        }
        // Beyond these the watcher's nanosecond arithmetic would overflow; no one means them.
        assertThatThrownBy(() -> builder.quietPeriod(Duration.ofDays(1))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("quietPeriod must be at most PT1H");
        assertThatThrownBy(() -> builder.recheckInterval(Duration.ofDays(365 * 300L)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("recheckInterval must be at most");
    }
}
