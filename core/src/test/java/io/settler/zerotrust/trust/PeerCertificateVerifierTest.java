package io.settler.zerotrust.trust;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.settler.zerotrust.identity.ServiceIdentity;
import io.settler.zerotrust.pki.CertificateDefect;
import io.settler.zerotrust.pki.DevCertificateAuthority;
import io.settler.zerotrust.pki.IssuedCertificate;
import io.settler.zerotrust.trust.PeerVerificationException.Reason;
import java.math.BigInteger;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.Test;

/** Each test is an attack (or a mistake) the verifier must refuse, or a chain it must accept. */
class PeerCertificateVerifierTest {

    private static final ServiceIdentity API = ServiceIdentity.parse("spiffe://example.org/api");

    private final DevCertificateAuthority ca = DevCertificateAuthority.create("example.org");
    private final PeerCertificateVerifier verifier = PeerCertificateVerifier.builder()
            .trustAnchors(List.of(ca.rootCertificate()))
            .build();

    // ------------------------------------------------------------------ accepted

    @Test
    void acceptsServerByIdentityHostNameAndAddress() throws Exception {
        IssuedCertificate api = ca.leaf("api").server().dnsNames("localhost").ipAddresses("127.0.0.1", "::1").issue();

        VerifiedPeer peer = verifier.verifyServer(api.chain(), PeerName.identity(API));

        assertThat(peer.leaf()).isEqualTo(api.certificate());
        assertThat(peer.path()).containsExactly(api.certificate(), ca.rootCertificate());
        assertThat(peer.trustAnchor()).isEqualTo(ca.rootCertificate());
        assertThat(peer.identity()).contains(API);
        assertThat(peer.sha256Fingerprint()).matches("[0-9a-f]{64}");
        assertThat(verifier.verifyServer(api.chain(), PeerName.dns("localhost")).identity()).contains(API);
        assertThat(verifier.verifyServer(api.chain(), PeerName.parse("LocalHost.")).leaf())
                .isEqualTo(api.certificate());
        assertThat(verifier.verifyServer(api.chain(), PeerName.ip("127.0.0.1")).leaf()).isEqualTo(api.certificate());
        assertThat(verifier.verifyServer(api.chain(), PeerName.parse("[::1]")).leaf()).isEqualTo(api.certificate());
    }

    @Test
    void acceptsClientAndExtractsItsIdentity() throws Exception {
        IssuedCertificate worker = ca.leaf("jobs/worker").client().issue();

        VerifiedPeer peer = verifier.verifyClient(worker.chain());

        assertThat(peer.identity()).contains(ServiceIdentity.parse("spiffe://example.org/jobs/worker"));
    }

    @Test
    void acceptsChainThroughAnIntermediateSentInAnyOrderAmongStrangers() throws Exception {
        DevCertificateAuthority withIntermediate = DevCertificateAuthority.builder("example.org")
                .withIntermediate().build();
        DevCertificateAuthority stranger = DevCertificateAuthority.builder("other.org").withIntermediate().build();
        IssuedCertificate api = withIntermediate.leaf("api").issue();
        PeerCertificateVerifier v = PeerCertificateVerifier.builder()
                .trustAnchors(List.of(withIntermediate.rootCertificate(), stranger.rootCertificate()))
                .build();
        X509Certificate intermediate = withIntermediate.intermediateCertificate().orElseThrow();

        VerifiedPeer peer = v.verifyServer(List.of(api.certificate(),
                stranger.intermediateCertificate().orElseThrow(), intermediate), PeerName.identity(API));

        assertThat(peer.path()).containsExactly(api.certificate(), intermediate, withIntermediate.rootCertificate());
    }

    @Test
    void rejectsChainWithoutItsIntermediate() {
        DevCertificateAuthority withIntermediate = DevCertificateAuthority.builder("example.org")
                .withIntermediate().build();
        IssuedCertificate api = withIntermediate.leaf("api").issue();
        PeerCertificateVerifier v = PeerCertificateVerifier.builder()
                .trustAnchors(List.of(withIntermediate.rootCertificate())).build();

        assertRejected(() -> v.verifyServer(List.of(api.certificate()), PeerName.identity(API)),
                Reason.UNTRUSTED_ISSUER);
    }

    @Test
    void aRootSentByThePeerThatIsNotTrustedIsReportedAsNotInTheTrustBundle() {
        DevCertificateAuthority other = DevCertificateAuthority.create("other.org");
        IssuedCertificate api = other.leaf("api").server().issue();

        // The peer sends its root, which lacks an authority key identifier as roots may: the
        // message names the missing trust, not the AKI.
        assertThatThrownBy(() -> verifier.verifyServer(List.of(api.certificate(), other.rootCertificate()),
                PeerName.identity(ServiceIdentity.parse("spiffe://other.org/api"))))
                .isInstanceOfSatisfying(PeerVerificationException.class,
                        e -> assertThat(e.reason()).isEqualTo(Reason.UNTRUSTED_ISSUER))
                .hasMessageContaining("is a root CA that is not in this side's trust bundle")
                .hasMessageNotContaining("authority key identifier");
    }

    // ------------------------------------------------------------------ refused: time

    @Test
    void rejectsExpiredLeaf() {
        IssuedCertificate api = ca.leaf("api").defect(CertificateDefect.EXPIRED).issue();

        assertRejected(() -> verifier.verifyServer(api.chain(), PeerName.identity(API)), Reason.EXPIRED);
    }

    @Test
    void rejectsNotYetValidLeaf() {
        IssuedCertificate api = ca.leaf("api").defect(CertificateDefect.NOT_YET_VALID).issue();

        assertRejected(() -> verifier.verifyServer(api.chain(), PeerName.identity(API)), Reason.NOT_YET_VALID);
    }

    @Test
    void rejectsEverythingOnceTheAnchorHasExpiredAtTheClocksTime() {
        IssuedCertificate api = ca.leaf("api").validity(Duration.ofHours(1)).issue();
        PeerCertificateVerifier later = PeerCertificateVerifier.builder()
                .trustAnchors(List.of(ca.rootCertificate()))
                .clock(Clock.fixed(Instant.now().plus(Duration.ofDays(60)), ZoneOffset.UTC))
                .build();

        assertRejected(() -> later.verifyServer(api.chain(), PeerName.identity(API)), Reason.EXPIRED);
    }

    // ------------------------------------------------------------------ refused: issuer

    @Test
    void rejectsLeafFromUnknownCaWithTheSameNameAndAnotherKey() {
        IssuedCertificate impostor = ca.leaf("api").defect(CertificateDefect.UNKNOWN_CA).issue();

        assertRejected(() -> verifier.verifyServer(impostor.chain(), PeerName.identity(API)), Reason.BAD_SIGNATURE);
        assertRejected(() -> verifier.verifyClient(impostor.chain()), Reason.BAD_SIGNATURE);
    }

    @Test
    void rejectsLeafSignedByAnotherLeaf() throws Exception {
        TestPki pki = new TestPki();
        KeyPair leafKeys = TestPki.ec();
        X509Certificate leaf = pki.leaf(leafKeys, "SHA256withECDSA", "CN=api",
                List.of(dns("api.example.org")), KeyPurposeId.id_kp_serverAuth);
        X509Certificate grandchild = pki.issue(leaf, leafKeys.getPrivate(), TestPki.ec(), "SHA256withECDSA",
                "CN=evil", List.of(dns("bank.example.org")), KeyPurposeId.id_kp_serverAuth, false);

        assertRejected(() -> pki.verifier().verifyServer(List.of(grandchild, leaf), PeerName.dns("bank.example.org")),
                Reason.NOT_A_CA);
    }

    // ------------------------------------------------------------------ refused: usage

    @Test
    void rejectsCodeSigningCertificateAsServerOrClient() {
        IssuedCertificate signer = ca.leaf("api").defect(CertificateDefect.WRONG_EKU).issue();

        assertRejected(() -> verifier.verifyServer(signer.chain(), PeerName.identity(API)),
                Reason.WRONG_EXTENDED_KEY_USAGE);
        assertRejected(() -> verifier.verifyClient(signer.chain()), Reason.WRONG_EXTENDED_KEY_USAGE);
    }

    @Test
    void rejectsClientOnlyCertificateOfferedByServer() {
        IssuedCertificate client = ca.leaf("api").client().issue();

        assertRejected(() -> verifier.verifyServer(client.chain(), PeerName.identity(API)),
                Reason.WRONG_EXTENDED_KEY_USAGE);
    }

    @Test
    void rejectsCaFlagOnLeaf() {
        IssuedCertificate rogueCa = ca.leaf("api").defect(CertificateDefect.CA_FLAG_ON_LEAF).issue();

        assertRejected(() -> verifier.verifyServer(rogueCa.chain(), PeerName.identity(API)), Reason.END_ENTITY_IS_CA);
    }

    // ------------------------------------------------------------------ refused: names

    @Test
    void rejectsCertificateForAnotherServiceIdentity() {
        IssuedCertificate impostor = ca.leaf("api").defect(CertificateDefect.WRONG_SAN).issue();
        IssuedCertificate billing = ca.leaf("billing").issue();

        assertRejected(() -> verifier.verifyServer(impostor.chain(), PeerName.identity(API)), Reason.NAME_MISMATCH);
        assertRejected(() -> verifier.verifyServer(billing.chain(), PeerName.identity(API)), Reason.NAME_MISMATCH);
    }

    @Test
    void rejectsCertificateForAnotherHostOrAddress() {
        IssuedCertificate wrong = ca.leaf("api").dnsNames("localhost").ipAddresses("127.0.0.1")
                .defect(CertificateDefect.WRONG_SAN).issue();

        assertRejected(() -> verifier.verifyServer(wrong.chain(), PeerName.dns("localhost")), Reason.NAME_MISMATCH);
        assertRejected(() -> verifier.verifyServer(wrong.chain(), PeerName.ip("127.0.0.1")), Reason.NAME_MISMATCH);
    }

    @Test
    void rejectsHostNameFoundOnlyInTheCommonName() throws Exception {
        TestPki pki = new TestPki();
        X509Certificate cnOnly = pki.leaf(TestPki.ec(), "SHA256withECDSA", "CN=localhost",
                List.of(new GeneralName(GeneralName.uniformResourceIdentifier, API.toString())),
                KeyPurposeId.id_kp_serverAuth);

        assertRejected(() -> pki.verifier().verifyServer(List.of(cnOnly), PeerName.dns("localhost")),
                Reason.NAME_MISMATCH);
    }

    @Test
    void rejectsAddressFoundOnlyInADnsName() throws Exception {
        TestPki pki = new TestPki();
        X509Certificate leaf = pki.leaf(TestPki.ec(), "SHA256withECDSA", "CN=10.0.0.1",
                List.of(dns("10.0.0.1")), KeyPurposeId.id_kp_serverAuth);

        assertRejected(() -> pki.verifier().verifyServer(List.of(leaf), PeerName.ip("10.0.0.1")), Reason.NAME_MISMATCH);
    }

    @Test
    void appliesWildcardsOnlyAsTheWholeLeftMostLabel() throws Exception {
        TestPki pki = new TestPki();
        X509Certificate wildcard = pki.leaf(TestPki.ec(), "SHA256withECDSA", "CN=wildcard",
                List.of(dns("*.example.org"), dns("a*.test.org"), dns("*.org"), dns("www.*.net")),
                KeyPurposeId.id_kp_serverAuth);
        PeerCertificateVerifier v = pki.verifier();

        assertThat(v.verifyServer(List.of(wildcard), PeerName.dns("api.example.org")).leaf()).isEqualTo(wildcard);
        assertThat(v.verifyServer(List.of(wildcard), PeerName.dns("API.Example.ORG.")).leaf()).isEqualTo(wildcard);
        for (String host : List.of("example.org", "a.b.example.org", "abc.test.org", "a.test.org", "example.org",
                "org", "www.x.net", "www.example.net")) {
            assertRejected(() -> v.verifyServer(List.of(wildcard), PeerName.dns(host)), Reason.NAME_MISMATCH);
        }
        assertThatThrownBy(() -> PeerName.dns("*.example.org")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void parsesPeerNamesByForm() {
        assertThat(PeerName.parse("spiffe://example.org/api")).isEqualTo(PeerName.identity(API));
        assertThat(PeerName.parse("10.0.0.1")).isInstanceOf(PeerName.Ip.class);
        assertThat(PeerName.parse("::1")).isInstanceOf(PeerName.Ip.class);
        assertThat(PeerName.parse("API.example.org.")).isEqualTo(PeerName.dns("api.example.org"));
        for (String invalid : List.of("", "foo_bar.example.org", "exa mple.org", "bücher.example", "010.0.0.1",
                "256.1.1.1", "a..b", "-a.example.org", "1.2.3", "host:port:x")) {
            assertThatThrownBy(() -> PeerName.parse(invalid)).as(invalid).isInstanceOf(RuntimeException.class);
        }
    }

    // ------------------------------------------------------------------ refused: weak cryptography

    @Test
    void rejectsSha1SignedLeaf() throws Exception {
        TestPki pki = new TestPki(TestPki.rsa(2048), "SHA256withRSA");
        X509Certificate sha1 = pki.leaf(TestPki.ec(), "SHA1withRSA", "CN=api",
                List.of(dns("api.example.org")), KeyPurposeId.id_kp_serverAuth);

        assertRejected(() -> pki.verifier().verifyServer(List.of(sha1), PeerName.dns("api.example.org")),
                Reason.WEAK_ALGORITHM);
    }

    @Test
    void rejectsRsa1024Leaf() throws Exception {
        TestPki pki = new TestPki(TestPki.rsa(2048), "SHA256withRSA");
        X509Certificate weak = pki.leaf(TestPki.rsa(1024), "SHA256withRSA", "CN=api",
                List.of(dns("api.example.org")), KeyPurposeId.id_kp_serverAuth);

        assertRejected(() -> pki.verifier().verifyServer(List.of(weak), PeerName.dns("api.example.org")),
                Reason.WEAK_KEY);
    }

    @Test
    void rejectsStrongLeafUnderRsa1024Anchor() throws Exception {
        TestPki pki = new TestPki(TestPki.rsa(1024), "SHA256withRSA");
        X509Certificate leaf = pki.leaf(TestPki.ec(), "SHA256withRSA", "CN=api",
                List.of(dns("api.example.org")), KeyPurposeId.id_kp_serverAuth);

        assertRejected(() -> pki.verifier().verifyServer(List.of(leaf), PeerName.dns("api.example.org")),
                Reason.WEAK_KEY);
    }

    // ------------------------------------------------------------------ API

    @Test
    void isACertificateExceptionSoTrustManagersCanThrowIt() {
        assertThat(new PeerVerificationException(Reason.MALFORMED, "x")).isInstanceOf(CertificateException.class);
    }

    @Test
    void refusesToBuildWithoutAnchorsAndToVerifyNothing() {
        assertThatThrownBy(() -> PeerCertificateVerifier.builder().build()).isInstanceOf(IllegalStateException.class);
        assertRejected(() -> verifier.verifyClient(List.of()), Reason.UNTRUSTED_ISSUER);
    }

    // ------------------------------------------------------------------ helpers

    private static GeneralName dns(String name) {
        return new GeneralName(GeneralName.dNSName, name);
    }

    private interface Verification {
        VerifiedPeer run() throws PeerVerificationException;
    }

    private static void assertRejected(Verification verification, Reason reason) {
        assertThatThrownBy(verification::run)
                .isInstanceOf(PeerVerificationException.class)
                .satisfies(e -> assertThat(((PeerVerificationException) e).reason())
                        .as("reason of: %s", e.getMessage()).isEqualTo(reason));
    }

    /** A root built with Bouncy Castle, for certificates the development CA refuses to make. */
    private static final class TestPki {
        private final KeyPair rootKeys;
        private final X509Certificate root;

        TestPki() throws Exception {
            this(ec(), "SHA256withECDSA");
        }

        TestPki(KeyPair rootKeys, String signatureAlgorithm) throws Exception {
            this.rootKeys = rootKeys;
            X500Name name = new X500Name("CN=Test Root");
            X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(name, serial(), start(), end(),
                    name, rootKeys.getPublic());
            JcaX509ExtensionUtils utils = new JcaX509ExtensionUtils();
            builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
            builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
            builder.addExtension(Extension.subjectKeyIdentifier, false,
                    utils.createSubjectKeyIdentifier(rootKeys.getPublic()));
            this.root = new JcaX509CertificateConverter().getCertificate(
                    builder.build(new JcaContentSignerBuilder(signatureAlgorithm).build(rootKeys.getPrivate())));
        }

        PeerCertificateVerifier verifier() {
            return PeerCertificateVerifier.builder().trustAnchors(List.of(root)).build();
        }

        X509Certificate leaf(KeyPair keys, String signatureAlgorithm, String subject, List<GeneralName> names,
                             KeyPurposeId purpose) throws Exception {
            return issue(root, rootKeys.getPrivate(), keys, signatureAlgorithm, subject, names, purpose, false);
        }

        X509Certificate issue(X509Certificate issuer, java.security.PrivateKey issuerKey, KeyPair keys,
                              String signatureAlgorithm, String subject, List<GeneralName> names,
                              KeyPurposeId purpose, boolean isCa) throws Exception {
            X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(issuer, serial(), start(), end(),
                    new javax.security.auth.x500.X500Principal(subject), keys.getPublic());
            JcaX509ExtensionUtils utils = new JcaX509ExtensionUtils();
            builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(isCa));
            builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
            builder.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(purpose));
            if (!names.isEmpty()) {
                builder.addExtension(Extension.subjectAlternativeName, false,
                        new GeneralNames(new ArrayList<>(names).toArray(GeneralName[]::new)));
            }
            builder.addExtension(Extension.authorityKeyIdentifier, false, utils.createAuthorityKeyIdentifier(issuer));
            builder.addExtension(Extension.subjectKeyIdentifier, false,
                    utils.createSubjectKeyIdentifier(keys.getPublic()));
            return new JcaX509CertificateConverter().getCertificate(
                    builder.build(new JcaContentSignerBuilder(signatureAlgorithm).build(issuerKey)));
        }

        static KeyPair ec() throws Exception {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
            generator.initialize(new ECGenParameterSpec("secp256r1"));
            return generator.generateKeyPair();
        }

        static KeyPair rsa(int bits) throws Exception {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
            generator.initialize(bits);
            return generator.generateKeyPair();
        }

        private static BigInteger serial() {
            return new BigInteger(120, new SecureRandom()).setBit(0);
        }

        private static Date start() {
            return Date.from(Instant.now().minus(Duration.ofHours(1)));
        }

        private static Date end() {
            return Date.from(Instant.now().plus(Duration.ofDays(1)));
        }
    }
}
