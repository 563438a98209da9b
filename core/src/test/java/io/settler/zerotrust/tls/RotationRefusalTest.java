package io.settler.zerotrust.tls;

import static org.assertj.core.api.Assertions.assertThat;

import io.settler.zerotrust.audit.AuditEvent;
import io.settler.zerotrust.audit.AuditLog;
import io.settler.zerotrust.audit.CoreTestAudit;
import io.settler.zerotrust.authz.PeerAuthorizer;
import io.settler.zerotrust.credentials.CredentialException;
import io.settler.zerotrust.credentials.CredentialException.Reason;
import io.settler.zerotrust.credentials.CredentialSnapshot;
import io.settler.zerotrust.credentials.CredentialSource;
import io.settler.zerotrust.credentials.FileCredentialSource;
import io.settler.zerotrust.credentials.TlsIdentity;
import io.settler.zerotrust.credentials.TrustBundle;
import io.settler.zerotrust.pki.DevCertificateAuthority;
import io.settler.zerotrust.pki.IssuedCertificate;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a rotation may not do: a pair from another CA, a certificate for another identity or a trust
 * bundle that no longer anchors the leaf is refused and audited, listeners (connection pools) are
 * not told, and real handshakes of an {@link MtlsContext} built on the source, as server and as
 * client, keep presenting the last good identity. A later valid renewal is still applied.
 */
class RotationRefusalTest {

    private static final DevCertificateAuthority CA = DevCertificateAuthority.create("example.org");
    /** Another CA for the same trust domain: its certificates carry the same SPIFFE IDs. */
    private static final DevCertificateAuthority OTHER_CA = DevCertificateAuthority.create("example.org");
    private static final String API = "spiffe://example.org/api";
    private static final String WORKER = "spiffe://example.org/worker";

    @TempDir
    Path dir;

    private final List<AuditEvent> audit = new CopyOnWriteArrayList<>();
    private final List<CredentialSnapshot> notified = new CopyOnWriteArrayList<>();
    private IssuedCertificate first;
    private FileCredentialSource source;
    private MtlsContext server;
    private MtlsContext client;
    private MtlsContext peerClient;
    private MtlsContext peerServer;

    /** Starts the source; a quiet period of hours keeps the watcher out of tests that reload themselves. */
    private void start(Duration quietPeriod) {
        first = CA.leaf("api").issue();
        first.writePem(dir, "tls");
        AuditLog auditLog = CoreTestAudit.into(audit);
        source = FileCredentialSource.builder(dir.resolve("tls.crt"), dir.resolve("tls.key"), dir.resolve("ca.crt"))
                .quietPeriod(quietPeriod).auditLog(auditLog).start();
        source.onRotation(notified::add);
        server = MtlsContext.server(source, PeerAuthorizer.builder().allowIdentities(WORKER).build())
                .auditLog(auditLog).build();
        client = MtlsContext.client(source).expectedServer(WORKER).auditLog(auditLog).build();
        IssuedCertificate worker = CA.leaf("worker").issue();
        CredentialSource workerCredentials = CredentialSource.fixed(TlsIdentity.of(worker.privateKey(),
                worker.chain()), TrustBundle.of(List.of(CA.rootCertificate())));
        peerClient = MtlsContext.client(workerCredentials).expectedServer(API).auditLog(auditLog).build();
        peerServer = MtlsContext.server(workerCredentials, PeerAuthorizer.builder().allowIdentities(API).build())
                .auditLog(auditLog).build();
    }

    @AfterEach
    void stop() {
        if (source != null) {
            source.close();
        }
    }

    @Test
    void pairFromAnotherCaIsRefusedAndHandshakesKeepTheOldIdentity() throws Exception {
        start(Duration.ofHours(1));
        writePair(OTHER_CA.leaf("api").issue());

        assertRefused(Reason.UNTRUSTED_CHAIN);
        assertHandshakesPresent(first.certificate());

        IssuedCertificate renewal = CA.leaf("api").issue();
        writePair(renewal);
        assertThat(source.reloadOrThrow()).as("a valid renewal after the refusal").isTrue();
        assertHandshakesPresent(renewal.certificate());
        assertThat(notified).singleElement().satisfies(s -> assertThat(s.identity().certificate())
                .isEqualTo(renewal.certificate()));
    }

    @Test
    void pairWithAnotherSpiffeIdFromTheSameCaIsRefused() throws Exception {
        start(Duration.ofHours(1));
        writePair(CA.leaf("billing").issue());

        CredentialException refused = assertRefused(Reason.IDENTITY_CHANGED);
        assertThat(refused.getMessage())
                .contains("spiffe://example.org/billing", API, "a rotation renews the same identity");
        assertHandshakesPresent(first.certificate());

        IssuedCertificate renewal = CA.leaf("api").issue();
        writePair(renewal);
        assertThat(source.reloadOrThrow()).isTrue();
        assertHandshakesPresent(renewal.certificate());
    }

    @Test
    void trustBundleThatNoLongerAnchorsTheLeafIsRefused() throws Exception {
        start(Duration.ofHours(1));
        Files.writeString(dir.resolve("ca.crt"), OTHER_CA.caBundlePem());

        assertRefused(Reason.UNTRUSTED_CHAIN);
        assertThat(source.current().trust().anchors()).containsExactly(CA.rootCertificate());
        assertHandshakesPresent(first.certificate());
    }

    @Test
    void pairFromAnotherCaWrittenUnderTheWatcherIsRefusedAndALaterRenewalIsPickedUp() throws Exception {
        start(Duration.ofMillis(50));
        writePair(OTHER_CA.leaf("api").issue());
        awaitEvent("credentials.rotation_refused", "UNTRUSTED_CHAIN");
        assertThat(notified).isEmpty();
        assertHandshakesPresent(first.certificate());

        IssuedCertificate renewal = CA.leaf("api").issue();
        writePair(renewal);
        awaitEvent("credentials.rotated", null);
        assertThat(source.current().identity().certificate()).isEqualTo(renewal.certificate());
        assertHandshakesPresent(renewal.certificate());
    }

    /** Replaces the certificate and key, not the trust bundle, each file atomically. */
    private void writePair(IssuedCertificate issued) throws Exception {
        Path chain = Files.writeString(dir.resolve("tls.crt.tmp"), issued.chainPem());
        Files.move(chain, dir.resolve("tls.crt"), java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        Path key = Files.writeString(dir.resolve("tls.key.tmp"), issued.privateKeyPem());
        Files.move(key, dir.resolve("tls.key"), java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    private CredentialException assertRefused(Reason reason) {
        CredentialException e = org.assertj.core.api.Assertions.catchThrowableOfType(CredentialException.class,
                source::reloadOrThrow);
        assertThat(e).as("a refused rotation").isNotNull();
        assertThat(e.reason()).as(e.getMessage()).isEqualTo(reason);
        assertThat(source.reload()).as("reload() refuses it too").isFalse();
        assertThat(audit).filteredOn(ev -> ev.action().equals("credentials.rotation_refused")).hasSize(2)
                .allSatisfy(ev -> assertThat(ev.fields()).containsEntry("reason", reason.name())
                        .containsEntry("kept_fingerprint", source.current().identity().fingerprint()));
        assertThat(audit).filteredOn(ev -> ev.action().equals("credentials.rotated")).isEmpty();
        assertThat(notified).as("listeners, such as a pool that recycles its connections, are not told").isEmpty();
        assertThat(source.current().generation()).isEqualTo(1);
        return e;
    }

    /** A new handshake on each side of the source's contexts succeeds and presents {@code expected}. */
    private void assertHandshakesPresent(X509Certificate expected) throws Exception {
        assertThat(handshake(server, peerClient).serverLeaf()).as("presented as server").isEqualTo(expected);
        assertThat(handshake(peerServer, client).clientLeaf()).as("presented as client").isEqualTo(expected);
    }

    /** The leaf each side presented, as the other side saw it. */
    private record Presented(Certificate serverLeaf, Certificate clientLeaf) {
    }

    /**
     * One real handshake over 127.0.0.1 and one echoed byte. The client closes before the server's
     * outcome is awaited: a JDK 17 server socket's close waits for the client's close_notify.
     */
    private static Presented handshake(MtlsContext server, MtlsContext client) throws Exception {
        try (SSLServerSocket listener = (SSLServerSocket) server.serverSocketFactory().createServerSocket(0, 1,
                InetAddress.getLoopbackAddress())) {
            listener.setSoTimeout(10_000);
            CompletableFuture<Certificate> clientLeaf = CompletableFuture.supplyAsync(() -> {
                try (SSLSocket socket = (SSLSocket) listener.accept()) {
                    socket.setSoTimeout(10_000);
                    server.handshake(socket);
                    Certificate seen = socket.getSession().getPeerCertificates()[0];
                    socket.getOutputStream().write(socket.getInputStream().read());
                    return seen;
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            Certificate serverLeaf;
            try (SSLSocket socket = (SSLSocket) client.socketFactory().createSocket(
                    InetAddress.getLoopbackAddress(), listener.getLocalPort())) {
                socket.setSoTimeout(10_000);
                socket.startHandshake();
                serverLeaf = socket.getSession().getPeerCertificates()[0];
                socket.getOutputStream().write(42);
                assertThat(socket.getInputStream().read()).as("echo").isEqualTo(42);
            }
            return new Presented(serverLeaf, clientLeaf.get(15, TimeUnit.SECONDS));
        }
    }

    /** Waits for the watcher to record {@code action} (with {@code reason}, unless null). */
    private void awaitEvent(String action, String reason) throws InterruptedException {
        java.util.function.Predicate<AuditEvent> wanted = e -> e.action().equals(action)
                && (reason == null || reason.equals(e.fields().get("reason")));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (audit.stream().noneMatch(wanted) && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertThat(audit).as("audit events").anyMatch(wanted);
    }
}
