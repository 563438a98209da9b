package io.settler.zerotrust.credentials;

import static io.settler.zerotrust.credentials.Refusals.assertRefused;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.settler.zerotrust.credentials.CredentialException.Reason;
import io.settler.zerotrust.pki.CertificateDefect;
import io.settler.zerotrust.pki.DevCertificateAuthority;
import io.settler.zerotrust.pki.IssuedCertificate;
import io.settler.zerotrust.pki.KeyAlgorithm;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.slf4j.LoggerFactory;

class TlsIdentityTest {

    private static final DevCertificateAuthority CA =
            DevCertificateAuthority.builder("example.org").withIntermediate().build();
    private static final IssuedCertificate API = CA.leaf("api").issue();

    @TempDir
    Path dir;

    @Test
    void exposesLeafChainKeyIdentityAndExpiry() throws Exception {
        TlsIdentity identity = TlsIdentity.of(API.privateKey(), API.chain());

        assertThat(identity.certificate()).isEqualTo(API.certificate());
        assertThat(identity.chain()).containsExactlyElementsOf(API.chain());
        assertThat(identity.identity()).contains(API.identity());
        assertThat(identity.notAfter()).isEqualTo(API.certificate().getNotAfter().toInstant());
        assertThat(identity.privateKey()).isEqualTo(API.privateKey());
        assertThat(identity.fingerprint()).isEqualTo(
                HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(API.certificate().getEncoded())))
                .matches("[0-9a-f]{64}");
    }

    @Test
    void toStringShowsIdentityFingerprintAndExpiryOnly() {
        TlsIdentity identity = TlsIdentity.of(API.privateKey(), API.chain());

        assertThat(identity).hasToString("TlsIdentity[identity=spiffe://example.org/api, fingerprint="
                + identity.fingerprint() + ", notAfter=" + identity.notAfter() + "]");
    }

    @Test
    void chainIsImmutableAndACopy() {
        List<X509Certificate> chain = new ArrayList<>(API.chain());
        TlsIdentity identity = TlsIdentity.of(API.privateKey(), chain);
        chain.clear();

        assertThat(identity.chain()).hasSize(2);
        assertThatThrownBy(() -> identity.chain().clear()).isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    void loadsTheFilesTheDevelopmentCaWrites() {
        var files = API.writePem(dir, "api");

        TlsIdentity identity = TlsIdentity.fromPem(files.chain(), files.privateKey());

        assertThat(identity.chain()).containsExactlyElementsOf(API.chain());
    }

    @Test
    void acceptsTheSameFileAsChainAndKey() {
        Path combined = TestPem.write(dir, "api.pem", API.privateKeyPem() + API.chainPem());

        assertThat(TlsIdentity.fromPem(combined, combined).chain()).containsExactlyElementsOf(API.chain());
    }

    @Test
    void acceptsAChainThatEndsWithTheRoot() {
        List<X509Certificate> withRoot = List.of(API.chain().get(0), API.chain().get(1), CA.rootCertificate());
        Path chain = TestPem.write(dir, "chain.pem", TestPem.certificates(withRoot));

        TlsIdentity identity = TlsIdentity.fromPem(chain, TestPem.write(dir, "key.pem", API.privateKeyPem()));

        assertThat(identity.chain()).hasSize(3);
    }

    @Test
    void acceptsALeafWithoutSpiffeIdAsAnIdentityWithoutServiceIdentity() {
        KeyPair caKeys = TestPem.ecP256();
        X509Certificate ca = TestPem.selfSignedCa(caKeys, "Test CA");
        KeyPair keys = TestPem.ecP256();
        X509Certificate leaf = TestPem.leaf(ca, caKeys.getPrivate(), keys.getPublic(), "db.internal",
                "https://db.internal/");

        TlsIdentity identity = TlsIdentity.of(keys.getPrivate(), List.of(leaf));

        assertThat(identity.identity()).isEmpty();
        assertThat(identity.toString()).contains("identity=none");
    }

    @Test
    void checksValidityAtTheInjectedClock() {
        IssuedCertificate expired = CA.leaf("api").defect(CertificateDefect.EXPIRED).issue();
        Clock back = Clock.fixed(expired.certificate().getNotAfter().toInstant().minus(Duration.ofHours(1)),
                ZoneOffset.UTC);

        TlsIdentity identity = TlsIdentity.loader().clock(back).of(expired.privateKey(), expired.chain());

        assertThat(identity.notAfter()).isBefore(Instant.now());
    }

    @Test
    void loaderKeepsACopyOfThePassword() {
        KeyPair keys = new KeyPair(API.certificate().getPublicKey(), API.privateKey());
        Path key = TestPem.write(dir, "key.pem", TestPem.key(keys, TestPem.KeyFormat.ENCRYPTED_PKCS8));
        Path chain = TestPem.write(dir, "chain.pem", API.chainPem());
        char[] password = TestPem.PASSWORD.clone();
        TlsIdentity.Loader loader = TlsIdentity.loader().password(password);
        Arrays.fill(password, '\0');

        assertThat(loader.fromPem(chain, key).chain()).containsExactlyElementsOf(API.chain());
        assertThat(loader.toString()).contains("password=set").doesNotContain(new String(TestPem.PASSWORD));
    }

    @Test
    void warnsWhenTheChainFileAlsoHoldsAKey() {
        Logger logger = (Logger) LoggerFactory.getLogger(TlsIdentity.class);
        ListAppender<ILoggingEvent> logs = new ListAppender<>();
        logs.start();
        logger.addAppender(logs);
        try {
            Path chain = TestPem.write(dir, "chain.pem", API.chainPem() + API.privateKeyPem());
            Path key = TestPem.write(dir, "key.pem", API.privateKeyPem());

            assertThat(TlsIdentity.fromPem(chain, key).chain()).hasSize(2);
            assertThat(logs.list).singleElement().satisfies(event -> {
                assertThat(event.getLevel()).isEqualTo(Level.WARN);
                assertThat(event.getFormattedMessage()).contains("event=private_key_in_chain_file", "chain.pem");
            });
        } finally {
            logger.detachAppender(logs);
        }
    }

    @Test
    void ignoresAPasswordForAnUnencryptedKey() {
        Path combined = TestPem.write(dir, "api.pem", API.chainPem() + API.privateKeyPem());

        assertThat(TlsIdentity.fromPem(combined, "unused".toCharArray()).chain()).hasSize(2);
    }

    @Test
    void normalizesABouncyCastleKeyObjectToAStandardKey() throws Exception {
        var bcKey = KeyFactory.getInstance("ECDSA", TestPem.BC)
                .generatePrivate(new PKCS8EncodedKeySpec(API.privateKey().getEncoded()));

        TlsIdentity identity = TlsIdentity.of(bcKey, API.chain());

        assertThat(identity.privateKey().getAlgorithm()).isEqualTo("EC");
        assertThat(TestPem.hasJsseAlgorithmName(identity.privateKey())).isTrue();
        assertThat(TestPem.signsFor(identity.privateKey(), API.certificate().getPublicKey())).isTrue();
    }

    // --- PKCS#12

    @ParameterizedTest
    @EnumSource(value = KeyAlgorithm.class, names = {"RSA_2048", "EC_P256", "EC_P384", "ED25519"})
    void loadsPkcs12(KeyAlgorithm algorithm) {
        IssuedCertificate issued = CA.leaf("api").keyAlgorithm(algorithm).issue();
        Path p12 = issued.writePkcs12(dir.resolve("api.p12"), TestPem.PASSWORD);

        TlsIdentity identity = TlsIdentity.fromPkcs12(p12, TestPem.PASSWORD);

        assertThat(identity.chain()).containsExactlyElementsOf(issued.chain());
        assertThat(identity.identity()).contains(issued.identity());
        assertThat(TestPem.signsFor(identity.privateKey(), issued.certificate().getPublicKey())).isTrue();
    }

    @Test
    void refusesPkcs12WithWrongPassword() {
        Path p12 = API.writePkcs12(dir.resolve("api.p12"), TestPem.PASSWORD);
        assertRefused(() -> TlsIdentity.fromPkcs12(p12, "wrong".toCharArray()), Reason.WRONG_PASSWORD, p12,
                "check the password");
    }

    @Test
    void refusesPkcs12WithoutPassword() {
        Path p12 = API.writePkcs12(dir.resolve("api.p12"), TestPem.PASSWORD);
        assertRefused(() -> TlsIdentity.fromPkcs12(p12, null), Reason.PASSWORD_REQUIRED, p12, "pass its password");
    }

    @Test
    void refusesPemPassedAsPkcs12() {
        Path pem = TestPem.write(dir, "api.pem", API.chainPem() + API.privateKeyPem());
        assertRefused(() -> TlsIdentity.fromPkcs12(pem, TestPem.PASSWORD), Reason.MALFORMED_PKCS12, pem,
                "is a PEM file", "fromPem");
    }

    @Test
    void refusesGarbagePkcs12() {
        Path junk = TestPem.write(dir, "api.p12", new byte[] {0x30, (byte) 0x82, 0x01, 0x00, 0x02, 0x01});
        assertRefused(() -> TlsIdentity.fromPkcs12(junk, TestPem.PASSWORD), Reason.MALFORMED_PKCS12, junk);
    }

    @Test
    void refusesPkcs12WithoutKey() throws Exception {
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        store.setCertificateEntry("ca", CA.rootCertificate());
        Path p12 = dir.resolve("trust.p12");
        try (var out = Files.newOutputStream(p12)) {
            store.store(out, TestPem.PASSWORD);
        }
        assertRefused(() -> TlsIdentity.fromPkcs12(p12, TestPem.PASSWORD), Reason.NO_PRIVATE_KEY, p12);
    }

    @Test
    void refusesPkcs12WithTwoKeys() throws Exception {
        IssuedCertificate other = CA.leaf("web").issue();
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        store.setKeyEntry("api", API.privateKey(), TestPem.PASSWORD, API.chain().toArray(X509Certificate[]::new));
        store.setKeyEntry("web", other.privateKey(), TestPem.PASSWORD, other.chain().toArray(X509Certificate[]::new));
        Path p12 = dir.resolve("two.p12");
        try (var out = Files.newOutputStream(p12)) {
            store.store(out, TestPem.PASSWORD);
        }
        assertRefused(() -> TlsIdentity.fromPkcs12(p12, TestPem.PASSWORD), Reason.MULTIPLE_PRIVATE_KEYS, p12,
                "2 key entries");
    }

    @Test
    void checksPkcs12ContentLikePem() {
        IssuedCertificate expired = CA.leaf("api").defect(CertificateDefect.EXPIRED).issue();
        Path p12 = expired.writePkcs12(dir.resolve("api.p12"), TestPem.PASSWORD);
        assertRefused(() -> TlsIdentity.fromPkcs12(p12, TestPem.PASSWORD), Reason.EXPIRED, p12, "alias 'api'");
    }
}
