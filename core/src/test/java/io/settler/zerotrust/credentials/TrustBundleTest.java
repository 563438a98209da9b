package io.settler.zerotrust.credentials;

import static io.settler.zerotrust.credentials.Refusals.assertRefused;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.settler.zerotrust.credentials.CredentialException.Reason;
import io.settler.zerotrust.pki.DevCertificateAuthority;
import io.settler.zerotrust.pki.IssuedCertificate;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import org.bouncycastle.util.io.pem.PemObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

class TrustBundleTest {

    private static final DevCertificateAuthority CA =
            DevCertificateAuthority.builder("example.org").withIntermediate().build();
    private static final DevCertificateAuthority OTHER = DevCertificateAuthority.create("other.org");

    @TempDir
    Path dir;

    private final Logger logger = (Logger) LoggerFactory.getLogger(TrustBundle.class);
    private final ListAppender<ILoggingEvent> logs = new ListAppender<>();

    @BeforeEach
    void captureLogs() {
        logs.start();
        logger.addAppender(logs);
    }

    @AfterEach
    void releaseLogs() {
        logger.detachAppender(logs);
    }

    @Test
    void loadsTheBundleTheDevelopmentCaWrites() {
        Path file = CA.writeCaBundle(dir.resolve("ca.crt"));

        TrustBundle bundle = TrustBundle.fromPem(file);

        assertThat(bundle.anchors()).containsExactly(CA.rootCertificate());
        assertThat(bundle.fingerprints()).containsExactly(Certificates.fingerprint(CA.rootCertificate()))
                .allMatch(fingerprint -> fingerprint.matches("[0-9a-f]{64}"));
        assertThat(bundle.contains(CA.rootCertificate())).isTrue();
        assertThat(bundle.contains(OTHER.rootCertificate())).isFalse();
        assertThat(logs.list).isEmpty();
    }

    @Test
    void loadsManyAnchorsDropsDuplicatesAndToleratesCrlfAndText() {
        String text = "# our CAs\n" + CA.caBundlePem() + "subject=/CN=other\n" + OTHER.caBundlePem()
                + CA.caBundlePem();
        Path file = TestPem.write(dir, "ca.pem", text, true);

        TrustBundle bundle = TrustBundle.fromPem(file);

        assertThat(bundle.anchors()).containsExactly(CA.rootCertificate(), OTHER.rootCertificate());
        assertThat(bundle.fingerprints()).hasSize(2).doesNotHaveDuplicates();
        assertThatThrownBy(() -> bundle.anchors().clear()).isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    void equalBundlesHoldTheSameAnchorsInAnyOrder() {
        TrustBundle one = TrustBundle.of(List.of(CA.rootCertificate(), OTHER.rootCertificate()));
        TrustBundle two = TrustBundle.of(List.of(OTHER.rootCertificate(), CA.rootCertificate(), CA.rootCertificate()));

        assertThat(one).isEqualTo(two).hasSameHashCodeAs(two);
        assertThat(one).isNotEqualTo(TrustBundle.of(List.of(CA.rootCertificate())));
        assertThat(one.toString()).contains(Certificates.fingerprint(CA.rootCertificate()), "CN=Settler Dev Root CA");
    }

    @Test
    void refusesEmptyBundle() {
        assertRefused(() -> TrustBundle.of(List.of()), Reason.NO_CERTIFICATE, "empty");
    }

    @Test
    void refusesEmptyFile() {
        Path file = TestPem.write(dir, "ca.pem", "");
        assertRefused(() -> TrustBundle.fromPem(file), Reason.MALFORMED_PEM, file, "is empty");
    }

    @Test
    void refusesFileWithoutCertificate() {
        Path file = TestPem.write(dir, "ca.pem",
                TestPem.pem(new PemObject("PUBLIC KEY", CA.rootCertificate().getPublicKey().getEncoded())));
        assertRefused(() -> TrustBundle.fromPem(file), Reason.NO_CERTIFICATE, file, "found 1 PUBLIC KEY block");
    }

    @Test
    void refusesMissingFile() {
        Path file = dir.resolve("ca.pem");
        assertRefused(() -> TrustBundle.fromPem(file), Reason.FILE_UNREADABLE, file, "does not exist");
    }

    @Test
    void refusesTruncatedBundle() {
        String pem = CA.caBundlePem();
        Path file = TestPem.write(dir, "ca.pem", pem.substring(0, pem.length() / 2));
        assertRefused(() -> TrustBundle.fromPem(file), Reason.MALFORMED_PEM, file, "truncated");
    }

    @Test
    void refusesBundleThatAlsoHoldsAPrivateKey() {
        IssuedCertificate api = CA.leaf("api").issue();
        Path file = TestPem.write(dir, "ca.pem", CA.caBundlePem() + api.privateKeyPem());
        assertRefused(() -> TrustBundle.fromPem(file), Reason.UNEXPECTED_PRIVATE_KEY, file, "remove the key");
    }

    @Test
    void refusesLeafAsAnchor() {
        IssuedCertificate api = CA.leaf("api").issue();
        Path file = TestPem.write(dir, "ca.pem", TestPem.certificates(List.of(api.certificate())));
        assertRefused(() -> TrustBundle.fromPem(file), Reason.ANCHOR_NOT_CA, file, "CN=spiffe://example.org/api",
                "not a CA certificate");
    }

    @Test
    void refusesSelfSignedLeafAsAnchor() {
        KeyPair keys = TestPem.ecP256();
        X509Certificate selfSigned = TestPem.certificate(keys.getPublic(), "api", "api", keys.getPrivate(), false,
                Duration.ofDays(1));
        assertRefused(() -> TrustBundle.of(List.of(selfSigned)), Reason.ANCHOR_NOT_CA, "the given trust bundle");
    }

    @Test
    void refusesExpiredAnchor() {
        Clock past = Clock.fixed(Instant.now().minus(Duration.ofDays(10)), ZoneOffset.UTC);
        DevCertificateAuthority old = DevCertificateAuthority.builder("example.org").clock(past)
                .validity(Duration.ofDays(2)).build();
        Path file = TestPem.write(dir, "ca.pem", CA.caBundlePem() + old.caBundlePem());
        assertRefused(() -> TrustBundle.fromPem(file), Reason.EXPIRED, file, "expired at", "remove it from the bundle");
    }

    @Test
    void checksAnchorExpiryAtTheInjectedClock() {
        Path file = CA.writeCaBundle(dir.resolve("ca.crt"));
        Clock later = Clock.fixed(Instant.now().plus(Duration.ofDays(60)), ZoneOffset.UTC);

        assertRefused(() -> TrustBundle.loader().clock(later).fromPem(file), Reason.EXPIRED, file);
    }

    @Test
    void warnsWhenAnchorIsNotSelfSigned() {
        X509Certificate intermediate = CA.intermediateCertificate().orElseThrow();

        TrustBundle bundle = TrustBundle.of(List.of(intermediate));

        assertThat(bundle.anchors()).containsExactly(intermediate);
        assertThat(logs.list).singleElement().satisfies(event -> {
            assertThat(event.getLevel()).isEqualTo(Level.WARN);
            assertThat(event.getFormattedMessage()).contains("event=trust_anchor_not_self_signed",
                    "fingerprint=" + Certificates.fingerprint(intermediate), "Intermediate CA example.org");
        });
    }

    @Test
    void warnsButAcceptsAnAnchorNotValidYet() {
        Clock future = Clock.fixed(Instant.now().plus(Duration.ofDays(3)), ZoneOffset.UTC);
        DevCertificateAuthority next = DevCertificateAuthority.builder("example.org").clock(future).build();

        TrustBundle bundle = TrustBundle.of(List.of(CA.rootCertificate(), next.rootCertificate()));

        assertThat(bundle.anchors()).hasSize(2);
        assertThat(logs.list).singleElement().satisfies(event ->
                assertThat(event.getFormattedMessage()).contains("event=trust_anchor_not_yet_valid"));
    }
}
