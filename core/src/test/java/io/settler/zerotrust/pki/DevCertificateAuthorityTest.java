package io.settler.zerotrust.pki;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.settler.zerotrust.credentials.TlsIdentity;
import io.settler.zerotrust.identity.InvalidServiceIdentityException;
import io.settler.zerotrust.identity.TrustDomain;
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.CertPathValidator;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateFactory;
import java.security.cert.CertificateNotYetValidException;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class DevCertificateAuthorityTest {

    private static final String SERVER_AUTH = "1.3.6.1.5.5.7.3.1";
    private static final String CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";
    private static final String CODE_SIGNING = "1.3.6.1.5.5.7.3.3";

    private final DevCertificateAuthority ca = DevCertificateAuthority.create("example.org");

    @Test
    void issuesLeafWithSpiffeIdCommonNameAndBothUsagesByDefault() throws Exception {
        IssuedCertificate api = ca.leaf("api").issue();
        X509Certificate leaf = api.certificate();

        assertThat(sans(leaf, 6)).containsExactly("spiffe://example.org/api");
        assertThat(leaf.getSubjectX500Principal().getName()).isEqualTo("CN=spiffe://example.org/api");
        assertThat(leaf.getExtendedKeyUsage()).containsExactlyInAnyOrder(SERVER_AUTH, CLIENT_AUTH);
        assertThat(leaf.getBasicConstraints()).isEqualTo(-1);
        assertThat(leaf.getKeyUsage()[0]).as("digitalSignature").isTrue();
        assertThat(leaf.getKeyUsage()[5]).as("keyCertSign").isFalse();
        assertThat(api.identity()).hasToString("spiffe://example.org/api");
        assertThat(api.chain()).containsExactly(leaf);
        assertThat(api.rootCertificate()).isEqualTo(ca.rootCertificate());
        assertThat(pkixValidates(api)).isTrue();
    }

    @Test
    void serverAndClientSetTheirExtendedKeyUsageOnly() throws Exception {
        assertThat(ca.leaf("db").server().issue().certificate().getExtendedKeyUsage()).containsExactly(SERVER_AUTH);
        assertThat(ca.leaf("app").client().issue().certificate().getExtendedKeyUsage()).containsExactly(CLIENT_AUTH);
    }

    @Test
    void addsDnsAndIpSansWhenAsked() throws Exception {
        X509Certificate leaf = ca.leaf("postgres").server().dnsNames("localhost")
                .ipAddresses("127.0.0.1", "::1").issue().certificate();

        assertThat(sans(leaf, 2)).containsExactly("localhost");
        assertThat(sans(leaf, 7)).containsExactlyInAnyOrder("127.0.0.1", "0:0:0:0:0:0:0:1");
    }

    @Test
    void commonNameIsTheWholeSpiffeIdSoANestedPathNeverPassesForAnotherService() {
        X509Certificate nested = ca.leaf("dev/api").issue().certificate();

        assertThat(nested.getSubjectX500Principal().getName())
                .as("PostgreSQL maps the CN to a role: 'api' would log in as the api service")
                .isEqualTo("CN=spiffe://example.org/dev/api");
    }

    @Test
    void leavesTheSubjectEmptyWhenTheSpiffeIdDoesNotFitInACommonName() throws Exception {
        String path = "ns/" + "x".repeat(37) + "/api"; // spiffe://example.org/ns/xxx.../api: 65 characters
        IssuedCertificate issued = ca.leaf(path).issue();
        X509Certificate leaf = issued.certificate();

        assertThat(leaf.getSubjectX500Principal().getName()).isEmpty();
        assertThat(leaf.getCriticalExtensionOIDs()).as("RFC 5280: SAN critical when the subject is empty")
                .contains("2.5.29.17");
        assertThat(sans(leaf, 6)).containsExactly("spiffe://example.org/" + path);
        assertThat(pkixValidates(issued)).isTrue();
        assertThat(ca.leaf("ns/" + "x".repeat(36) + "/api").issue().certificate().getSubjectX500Principal().getName())
                .as("64 characters still fit").isEqualTo("CN=spiffe://example.org/ns/" + "x".repeat(36) + "/api");
    }

    @Test
    void commonNameCanDifferFromServiceName() {
        X509Certificate leaf = ca.leaf("ns/prod/api").commonName("app_role").issue().certificate();

        assertThat(leaf.getSubjectX500Principal().getName()).isEqualTo("CN=app_role");
    }

    @Test
    void chainsThroughAnIntermediateWhenBuiltWithOne() throws Exception {
        DevCertificateAuthority withIntermediate = DevCertificateAuthority.builder("example.org")
                .withIntermediate().build();
        IssuedCertificate api = withIntermediate.leaf("api").issue();

        assertThat(api.chain()).hasSize(2);
        assertThat(api.chain().get(1)).isEqualTo(withIntermediate.intermediateCertificate().orElseThrow());
        assertThat(api.chain().get(1).getBasicConstraints()).isZero();
        assertThat(withIntermediate.rootCertificate().getBasicConstraints()).isEqualTo(1);
        assertThat(pkixValidates(api)).isTrue();
    }

    @ParameterizedTest
    @EnumSource(KeyAlgorithm.class)
    void issuesEveryKeyAlgorithmWithAKeyThatMatchesTheCertificate(KeyAlgorithm algorithm) throws Exception {
        DevCertificateAuthority authority = DevCertificateAuthority.builder("example.org")
                .keyAlgorithm(algorithm).build();
        IssuedCertificate leaf = authority.leaf("api").keyAlgorithm(algorithm).issue();

        byte[] data = "proof of possession".getBytes();
        Signature signer = Signature.getInstance(algorithm.signatureAlgorithm());
        signer.initSign(leaf.privateKey());
        signer.update(data);
        byte[] signature = signer.sign();
        Signature verifier = Signature.getInstance(algorithm.signatureAlgorithm());
        verifier.initVerify(leaf.certificate().getPublicKey());
        verifier.update(data);

        assertThat(verifier.verify(signature)).isTrue();
        assertThat(leaf.certificate().getSigAlgName()).isEqualToIgnoringCase(algorithm.signatureAlgorithm());
        assertThat(leaf.certificate().getKeyUsage()[2]).as("keyEncipherment only for RSA")
                .isEqualTo(algorithm.name().startsWith("RSA"));
        assertThat(pkixValidates(leaf)).isTrue();
    }

    @Test
    void expiredDefectEndsInThePast() {
        X509Certificate leaf = ca.leaf("api").defect(CertificateDefect.EXPIRED).issue().certificate();

        assertThatThrownBy(leaf::checkValidity).isInstanceOf(CertificateExpiredException.class);
    }

    @Test
    void notYetValidDefectStartsInTheFuture() {
        X509Certificate leaf = ca.leaf("api").defect(CertificateDefect.NOT_YET_VALID).issue().certificate();

        assertThatThrownBy(leaf::checkValidity).isInstanceOf(CertificateNotYetValidException.class);
    }

    @Test
    void wrongEkuDefectAllowsNeitherServerNorClient() throws Exception {
        X509Certificate leaf = ca.leaf("api").defect(CertificateDefect.WRONG_EKU).issue().certificate();

        assertThat(leaf.getExtendedKeyUsage()).containsExactly(CODE_SIGNING);
    }

    @Test
    void wrongSanDefectNamesSomeoneElse() throws Exception {
        X509Certificate leaf = ca.leaf("api").dnsNames("localhost").ipAddresses("127.0.0.1")
                .defect(CertificateDefect.WRONG_SAN).issue().certificate();

        assertThat(sans(leaf, 6)).containsExactly("spiffe://example.org/impostor-api");
        assertThat(sans(leaf, 2)).containsExactly("wrong-san.invalid");
        assertThat(sans(leaf, 7)).containsExactly("192.0.2.1");
    }

    @Test
    void unknownCaDefectCopiesTheIssuerNameButFailsTheSignatureCheck() throws Exception {
        IssuedCertificate forged = ca.leaf("api").defect(CertificateDefect.UNKNOWN_CA).issue();

        assertThat(forged.certificate().getIssuerX500Principal())
                .isEqualTo(ca.rootCertificate().getSubjectX500Principal());
        assertThatThrownBy(() -> forged.certificate().verify(ca.rootCertificate().getPublicKey()))
                .isInstanceOf(java.security.SignatureException.class);
        assertThat(pkixValidates(forged)).isFalse();
    }

    @Test
    void caFlagDefectMakesTheLeafClaimToBeACa() {
        X509Certificate leaf = ca.leaf("api").defect(CertificateDefect.CA_FLAG_ON_LEAF).issue().certificate();

        assertThat(leaf.getBasicConstraints()).isGreaterThanOrEqualTo(0);
    }

    @Test
    void datesCertificatesByTheInjectedClock() {
        Instant then = Instant.parse("2030-01-01T00:00:00Z");
        DevCertificateAuthority future = DevCertificateAuthority.builder("example.org")
                .clock(Clock.fixed(then, ZoneOffset.UTC)).build();

        X509Certificate leaf = future.leaf("api").validity(Duration.ofHours(1)).issue().certificate();

        assertThat(leaf.getNotAfter().toInstant()).isEqualTo(then.plus(Duration.ofHours(1)));
        assertThat(leaf.getNotBefore().toInstant()).isBefore(then);
    }

    @Test
    void refusesALeafThatWouldOutliveItsCa() {
        DevCertificateAuthority shortLived = DevCertificateAuthority.builder("example.org")
                .validity(Duration.ofHours(1)).build();

        assertThatThrownBy(() -> shortLived.leaf("api").validity(Duration.ofDays(2)).issue())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("outlive");
    }

    @Test
    void issuesInItsTypedTrustDomain() {
        DevCertificateAuthority typed = DevCertificateAuthority.create(TrustDomain.of("example.org"));

        assertThat(ca.trustDomain()).isEqualTo(TrustDomain.of("example.org"));
        assertThat(typed.trustDomain()).isEqualTo(ca.trustDomain());
        assertThat(typed.leaf("api").issue().identity()).isEqualTo(ca.trustDomain().identity("api"));
        assertThat(DevCertificateAuthority.builder(ca.trustDomain()).build().trustDomain()).isEqualTo(ca.trustDomain());
    }

    @Test
    void refusesInvalidServiceNamesAndTrustDomains() {
        assertThatThrownBy(() -> ca.leaf("../etc")).isInstanceOf(InvalidServiceIdentityException.class);
        assertThatThrownBy(() -> ca.leaf("")).isInstanceOf(InvalidServiceIdentityException.class);
        assertThatThrownBy(() -> DevCertificateAuthority.create("Example.ORG:443"))
                .isInstanceOf(InvalidServiceIdentityException.class);
    }

    @Test
    void refusesIpAddressesThatAreNotLiterals() {
        assertThatThrownBy(() -> ca.leaf("api").ipAddresses("localhost")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> ca.leaf("api").ipAddresses("1.2.3")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void writesPemFilesWithAnOwnerOnlyKey(@TempDir Path dir) throws Exception {
        IssuedCertificate api = ca.leaf("api").issue();

        PemFiles files = api.writePem(dir.resolve("certs"), "api");

        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(files.privateKey())))
                .isEqualTo("rw-------");
        assertThat(readCertificates(files.chain())).containsExactlyElementsOf(api.chain());
        assertThat(readCertificates(files.caBundle())).containsExactly(ca.rootCertificate());
        String keyPem = Files.readString(files.privateKey());
        assertThat(keyPem).startsWith("-----BEGIN PRIVATE KEY-----");
        PrivateKey reread = KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(Base64.getMimeDecoder()
                .decode(keyPem.replaceAll("-----[A-Z ]+-----", ""))));
        assertThat(reread.getEncoded()).isEqualTo(api.privateKey().getEncoded());
        try (var leftovers = Files.list(files.chain().getParent())) {
            assertThat(leftovers.map(p -> p.getFileName().toString()))
                    .containsExactlyInAnyOrder("api.crt", "api.key", "ca.crt");
        }
    }

    @Test
    void writesAPkcs12KeyStoreUnderTheServiceAlias(@TempDir Path dir) throws Exception {
        IssuedCertificate api = ca.leaf("api").issue();
        char[] password = "test-only".toCharArray();

        Path file = api.writePkcs12(dir.resolve("api.p12"), password);

        KeyStore store = KeyStore.getInstance("PKCS12");
        try (var in = Files.newInputStream(file)) {
            store.load(in, password);
        }
        assertThat(store.getKey("api", password).getEncoded()).isEqualTo(api.privateKey().getEncoded());
        assertThat(store.getCertificateChain("api")).containsExactlyElementsOf(api.chain());
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
    }

    @Test
    void toStringNeverShowsKeyMaterial() {
        IssuedCertificate api = ca.leaf("api").issue();
        String keyBase64 = Base64.getEncoder().encodeToString(api.privateKey().getEncoded());

        assertThat(api.toString()).contains("spiffe://example.org/api").doesNotContain("PRIVATE")
                .doesNotContain(keyBase64.substring(0, 16));
    }

    private static boolean pkixValidates(IssuedCertificate issued) throws Exception {
        PKIXParameters parameters = new PKIXParameters(Set.of(new TrustAnchor(issued.rootCertificate(), null)));
        parameters.setRevocationEnabled(false);
        try {
            CertPathValidator.getInstance("PKIX").validate(
                    CertificateFactory.getInstance("X.509").generateCertPath(issued.chain()), parameters);
            return true;
        } catch (CertPathValidatorException e) {
            return false;
        }
    }

    private static List<String> sans(X509Certificate certificate, int type) throws Exception {
        Collection<List<?>> names = certificate.getSubjectAlternativeNames();
        return names.stream().filter(n -> (Integer) n.get(0) == type).map(n -> (String) n.get(1))
                .collect(Collectors.toList());
    }

    @SuppressWarnings("unchecked")
    private static List<X509Certificate> readCertificates(Path file) throws Exception {
        return (List<X509Certificate>) (List<?>) List.copyOf(CertificateFactory.getInstance("X.509")
                .generateCertificates(new ByteArrayInputStream(Files.readAllBytes(file))));
    }

    @Test
    void validityUnderASecondEndsAfterIssueRoundedUpToTheNextSecond() {
        Instant now = Instant.parse("2026-12-06T12:00:00.200Z");
        Clock clock = Clock.fixed(now, ZoneOffset.UTC);
        Instant nextSecond = Instant.parse("2026-12-06T12:00:01Z");

        DevCertificateAuthority ca = DevCertificateAuthority.builder("example.org").clock(clock)
                .validity(Duration.ofMillis(500)).build();
        IssuedCertificate leaf = ca.leaf("api").validity(Duration.ofMillis(300)).issue();

        assertThat(ca.rootCertificate().getNotAfter().toInstant()).isEqualTo(nextSecond);
        assertThat(leaf.certificate().getNotAfter().toInstant()).isEqualTo(nextSecond);
        assertThat(TlsIdentity.loader().clock(clock).of(leaf.privateKey(), leaf.chain()).notAfter()).isAfter(now);
    }

    @Test
    void zeroNegativeOrCenturiesLongValidityIsRefused() {
        for (Duration bad : List.of(Duration.ZERO, Duration.ofSeconds(-1))) {
            assertThatThrownBy(() -> DevCertificateAuthority.builder("example.org").validity(bad))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("validity must be positive");
            assertThatThrownBy(() -> DevCertificateAuthority.create("example.org").leaf("api").validity(bad))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("validity must be positive");
        }
        assertThatThrownBy(() -> DevCertificateAuthority.builder("example.org").validity(Duration.ofDays(40_000)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("validity must be at most");
    }

    @ParameterizedTest
    @EnumSource(KeyAlgorithm.class)
    void writtenCaLoadsBackAndIssuesUnderTheSameRoot(KeyAlgorithm algorithm, @TempDir Path dir) throws Exception {
        DevCertificateAuthority written = DevCertificateAuthority.builder("example.org").keyAlgorithm(algorithm)
                .withIntermediate().build();
        written.writeTo(dir);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("ca.key"))))
                .isEqualTo("rw-------");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("intermediate.key"))))
                .isEqualTo("rw-------");

        DevCertificateAuthority loaded = DevCertificateAuthority.load(dir);
        assertThat(loaded.trustDomain()).isEqualTo(TrustDomain.of("example.org"));
        assertThat(loaded.rootCertificate()).isEqualTo(written.rootCertificate());
        assertThat(loaded.intermediateCertificate()).isEqualTo(written.intermediateCertificate());
        IssuedCertificate api = loaded.leaf("api").issue();
        api.certificate().verify(written.intermediateCertificate().orElseThrow().getPublicKey());
        assertThat(api.rootCertificate()).isEqualTo(written.rootCertificate());
    }

    @Test
    void refusesToLoadAKeyThatIsNotTheRootsKey(@TempDir Path dir) throws Exception {
        ca.writeTo(dir);
        Path other = dir.resolve("other");
        DevCertificateAuthority.create("example.org").writeTo(other);
        Files.copy(other.resolve("ca.key"), dir.resolve("ca.key"), StandardCopyOption.REPLACE_EXISTING);
        assertThatThrownBy(() -> DevCertificateAuthority.load(dir)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("is not the key of");
    }

    @Test
    void refusesToLoadAStaleIntermediateOfAnotherRoot(@TempDir Path dir) throws Exception {
        DevCertificateAuthority.builder("example.org").withIntermediate().build().writeTo(dir);
        ca.writeTo(dir); // root-only: the old intermediate files stay
        assertThatThrownBy(() -> DevCertificateAuthority.load(dir)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("intermediate.crt is not signed by");
    }

    @Test
    void refusesToLoadAMissingCa(@TempDir Path dir) {
        assertThatThrownBy(() -> DevCertificateAuthority.load(dir)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("ca.crt");
    }
}
