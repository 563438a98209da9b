package io.settler.zerotrust.credentials;

import static io.settler.zerotrust.credentials.Refusals.assertRefused;

import io.settler.zerotrust.credentials.CredentialException.Reason;
import io.settler.zerotrust.credentials.TestPem.KeyFormat;
import io.settler.zerotrust.pki.CertificateDefect;
import io.settler.zerotrust.pki.DevCertificateAuthority;
import io.settler.zerotrust.pki.IssuedCertificate;
import io.settler.zerotrust.pki.KeyAlgorithm;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x9.ECNamedCurveTable;
import org.bouncycastle.asn1.x9.X9ECParameters;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;
import org.bouncycastle.openssl.jcajce.JcaMiscPEMGenerator;
import org.bouncycastle.util.io.pem.PemObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Each refusal, named after the mistake or attack it stops; each names the file and the fix. */
class TlsIdentityRefusalTest {

    private static final DevCertificateAuthority CA =
            DevCertificateAuthority.builder("example.org").withIntermediate().build();
    private static final IssuedCertificate API = CA.leaf("api").issue();

    @TempDir
    Path dir;

    private Path chain(IssuedCertificate issued) {
        return TestPem.write(dir, "chain.pem", issued.chainPem());
    }

    private Path key(IssuedCertificate issued) {
        return TestPem.write(dir, "key.pem", issued.privateKeyPem());
    }

    private Path key(IssuedCertificate issued, KeyFormat format) {
        KeyPair keys = new KeyPair(issued.certificate().getPublicKey(), issued.privateKey());
        return TestPem.write(dir, "key.pem", TestPem.key(keys, format));
    }

    // --- the key and the chain do not belong together

    @Test
    void refusesKeyThatDoesNotMatchTheLeaf() {
        IssuedCertificate other = CA.leaf("api").issue();
        Path key = key(other);
        assertRefused(() -> TlsIdentity.fromPem(chain(API), key), Reason.KEY_MISMATCH, key,
                "does not belong to", "CN=spiffe://example.org/api");
    }

    @Test
    void refusesKeyOfAnotherTypeThanTheLeaf() {
        IssuedCertificate rsa = CA.leaf("api").keyAlgorithm(KeyAlgorithm.RSA_2048).issue();
        Path key = key(rsa);
        assertRefused(() -> TlsIdentity.fromPem(chain(API), key), Reason.KEY_MISMATCH, key, "an RSA key", "an EC key");
    }

    @Test
    void refusesSec1KeyWithoutCurveForAnRsaLeaf() {
        IssuedCertificate rsa = CA.leaf("api").keyAlgorithm(KeyAlgorithm.RSA_2048).issue();
        Path key = key(API, KeyFormat.SEC1_BARE);
        assertRefused(() -> TlsIdentity.fromPem(chain(rsa), key), Reason.KEY_MISMATCH, key, "does not name its curve");
    }

    @Test
    void refusesKeyOfAnotherCurveThanTheLeaf() {
        IssuedCertificate p384 = CA.leaf("api").keyAlgorithm(KeyAlgorithm.EC_P384).issue();
        Path key = key(p384, KeyFormat.SEC1_BARE); // read on the leaf's curve P-256: cannot match
        assertRefused(() -> TlsIdentity.fromPem(chain(API), key), Reason.KEY_MISMATCH, key);
    }

    // --- the chain is broken

    @Test
    void refusesChainInWrongOrder() {
        Path chain = TestPem.write(dir, "chain.pem",
                TestPem.certificates(List.of(API.chain().get(1), API.chain().get(0))));
        assertRefused(() -> TlsIdentity.fromPem(chain, key(API)), Reason.CHAIN_NOT_LINKED, chain, "out of order");
    }

    @Test
    void refusesUnlinkedChain() {
        DevCertificateAuthority otherDomain = DevCertificateAuthority.builder("other.org").withIntermediate().build();
        X509Certificate unrelated = otherDomain.intermediateCertificate().orElseThrow();
        Path chain = TestPem.write(dir, "chain.pem", TestPem.certificates(List.of(API.certificate(), unrelated)));
        assertRefused(() -> TlsIdentity.fromPem(chain, key(API)), Reason.CHAIN_NOT_LINKED, chain,
                "is not linked", "Intermediate CA other.org");
    }

    @Test
    void refusesIntermediateWithTheRightNameButAnotherKey() {
        // Same trust domain, so the same intermediate name: only the signature tells them apart,
        // as after a CA rotation that kept the names.
        DevCertificateAuthority rotated = DevCertificateAuthority.builder("example.org").withIntermediate().build();
        X509Certificate impostor = rotated.intermediateCertificate().orElseThrow();
        Path chain = TestPem.write(dir, "chain.pem", TestPem.certificates(List.of(API.certificate(), impostor)));
        assertRefused(() -> TlsIdentity.fromPem(chain, key(API)), Reason.CHAIN_NOT_LINKED, chain, "did not sign it");
    }

    @Test
    void refusesLeafWithCaFlag() {
        IssuedCertificate ca = CA.leaf("api").defect(CertificateDefect.CA_FLAG_ON_LEAF).issue();
        Path chain = chain(ca);
        assertRefused(() -> TlsIdentity.fromPem(chain, key(ca)), Reason.LEAF_IS_CA, chain, "cA=true");
    }

    @Test
    void refusesCaCertificateInPlaceOfTheLeaf() {
        // The intermediate alone, with the leaf's key: the first certificate is a CA.
        Path chain = TestPem.write(dir, "chain.pem", TestPem.certificates(List.of(API.chain().get(1))));
        assertRefused(() -> TlsIdentity.fromPem(chain, key(API)), Reason.LEAF_IS_CA, chain);
    }

    // --- dates

    @Test
    void refusesExpiredLeaf() {
        IssuedCertificate expired = CA.leaf("api").defect(CertificateDefect.EXPIRED).issue();
        Path chain = chain(expired);
        assertRefused(() -> TlsIdentity.fromPem(chain, key(expired)), Reason.EXPIRED, chain, "expired at", "renew");
    }

    @Test
    void refusesNotYetValidLeaf() {
        IssuedCertificate early = CA.leaf("api").defect(CertificateDefect.NOT_YET_VALID).issue();
        Path chain = chain(early);
        assertRefused(() -> TlsIdentity.fromPem(chain, key(early)), Reason.NOT_YET_VALID, chain, "not valid before");
    }

    @Test
    void refusesLeafThatHasExpiredAtTheInjectedClock() {
        Clock later = Clock.fixed(Instant.now().plus(Duration.ofDays(2)), ZoneOffset.UTC);
        Path chain = chain(API);
        assertRefused(() -> TlsIdentity.loader().clock(later).fromPem(chain, key(API)), Reason.EXPIRED, chain);
    }

    @Test
    void refusesLeafNotYetValidAtTheInjectedClock() {
        Clock earlier = Clock.fixed(Instant.now().minus(Duration.ofDays(2)), ZoneOffset.UTC);
        Path chain = chain(API);
        assertRefused(() -> TlsIdentity.loader().clock(earlier).fromPem(chain, key(API)), Reason.NOT_YET_VALID, chain);
    }

    // --- passwords

    @Test
    void refusesWrongPassword() {
        Path key = key(API, KeyFormat.ENCRYPTED_PKCS8);
        assertRefused(() -> TlsIdentity.fromPem(chain(API), key, "wrong".toCharArray()), Reason.WRONG_PASSWORD, key,
                "encrypted PKCS#8", "PBES2", "check the password");
    }

    @Test
    void refusesWrongPasswordForLegacyEncryptedKey() {
        Path key = key(API, KeyFormat.LEGACY_ENCRYPTED);
        assertRefused(() -> TlsIdentity.fromPem(chain(API), key, "wrong".toCharArray()), Reason.WRONG_PASSWORD, key,
                "legacy OpenSSL-encrypted (AES-256-CBC) SEC1 EC key");
    }

    @Test
    void refusesEncryptedKeyWithoutPassword() {
        Path key = key(API, KeyFormat.ENCRYPTED_PKCS8);
        assertRefused(() -> TlsIdentity.fromPem(chain(API), key), Reason.PASSWORD_REQUIRED, key,
                "holds an encrypted PKCS#8 key: pass its password");
    }

    @Test
    void refusesLegacyEncryptedKeyWithoutPassword() {
        Path key = key(API, KeyFormat.LEGACY_ENCRYPTED);
        assertRefused(() -> TlsIdentity.fromPem(chain(API), key), Reason.PASSWORD_REQUIRED, key, "pass its password");
    }

    // --- weak keys

    @Test
    void refusesRsa1024Key() {
        KeyPair caKeys = TestPem.ecP256();
        X509Certificate ca = TestPem.selfSignedCa(caKeys, "Test CA");
        KeyPair weak = TestPem.generate("RSA", 1024);
        X509Certificate leaf =
                TestPem.leaf(ca, caKeys.getPrivate(), weak.getPublic(), "api", "spiffe://example.org/api");
        Path chain = TestPem.write(dir, "chain.pem", TestPem.certificates(List.of(leaf)));
        Path key = TestPem.write(dir, "key.pem", TestPem.key(weak, KeyFormat.PKCS1));
        assertRefused(() -> TlsIdentity.fromPem(chain, key), Reason.WEAK_KEY, key, "RSA key of 1024 bits",
                "at least 2048");
    }

    @Test
    void refusesDsaKey() {
        KeyPair dsa = TestPem.generate("DSA", 2048);
        Path key =
                TestPem.write(dir, "key.pem", TestPem.pem(new PemObject("PRIVATE KEY", dsa.getPrivate().getEncoded())));
        assertRefused(() -> TlsIdentity.fromPem(chain(API), key), Reason.WEAK_KEY, key, "DSA");
    }

    @Test
    void refusesTraditionalDsaKey() throws Exception {
        KeyPair dsa = TestPem.generate("DSA", 2048);
        Path key = TestPem.write(dir, "key.pem", TestPem.pem(new JcaMiscPEMGenerator(dsa.getPrivate())));
        assertRefused(() -> TlsIdentity.fromPem(chain(API), key), Reason.WEAK_KEY, key, "holds a DSA key");
    }

    @Test
    void refusesEcKeyOnP521() {
        KeyPair p521 = TestPem.generate("EC", new ECGenParameterSpec("secp521r1"));
        Path key = TestPem.write(dir, "key.pem", TestPem.key(p521, KeyFormat.PKCS8));
        assertRefused(() -> TlsIdentity.fromPem(chain(API), key), Reason.WEAK_KEY, key, "secp521r1", "P-256 or P-384");
    }

    @Test
    void refusesEcKeyWithExplicitCurveParameters() throws Exception {
        // CVE-2020-0601 ("CurveBall") class: parameters spelled out can describe a forged curve.
        KeyPair keys = new KeyPair(API.certificate().getPublicKey(), API.privateKey());
        X9ECParameters explicit = ECNamedCurveTable.getByName("secp256r1");
        PrivateKeyInfo info = new PrivateKeyInfo(new AlgorithmIdentifier(X9ObjectIdentifiers.id_ecPublicKey, explicit),
                TestPem.sec1(keys, false, true));
        Path key = TestPem.write(dir, "key.pem", TestPem.pem(new PemObject("PRIVATE KEY", info.getEncoded())));
        assertRefused(() -> TlsIdentity.fromPem(chain(API), key), Reason.WEAK_KEY, key, "explicit curve parameters");
    }

    @Test
    void refusesRsa1024KeyGivenInMemory() {
        KeyPair caKeys = TestPem.ecP256();
        X509Certificate ca = TestPem.selfSignedCa(caKeys, "Test CA");
        KeyPair weak = TestPem.generate("RSA", 1024);
        X509Certificate leaf = TestPem.leaf(ca, caKeys.getPrivate(), weak.getPublic(), "api");
        assertRefused(() -> TlsIdentity.of(weak.getPrivate(), List.of(leaf)), Reason.WEAK_KEY, "the given private key");
    }

    // --- malformed input

    @Test
    void refusesTruncatedPem() {
        String pem = API.privateKeyPem();
        Path key = TestPem.write(dir, "key.pem", pem.substring(0, pem.length() / 2));
        assertRefused(() -> TlsIdentity.fromPem(chain(API), key), Reason.MALFORMED_PEM, key,
                "PEM block 1 (PRIVATE KEY) is truncated");
    }

    @Test
    void refusesTruncatedChain() {
        String pem = API.chainPem();
        Path chain = TestPem.write(dir, "chain.pem", pem.substring(0, pem.length() - 40));
        assertRefused(() -> TlsIdentity.fromPem(chain, key(API)), Reason.MALFORMED_PEM, chain,
                "PEM block 2 (CERTIFICATE) is truncated");
    }

    @Test
    void refusesCertificateWithLinesMissing() {
        List<String> lines = API.chainPem().lines().toList();
        String pem = String.join("\n", lines.subList(0, 3)) + "\n" + String.join("\n", lines.subList(6, lines.size()));
        Path chain = TestPem.write(dir, "chain.pem", pem + "\n");
        assertRefused(() -> TlsIdentity.fromPem(chain, key(API)), Reason.MALFORMED_PEM, chain,
                "not a valid X.509 certificate");
    }

    @Test
    void refusesKeyWithLinesMissing() {
        IssuedCertificate rsa = CA.leaf("api").keyAlgorithm(KeyAlgorithm.RSA_2048).issue();
        List<String> lines = rsa.privateKeyPem().lines().toList();
        String pem = lines.get(0) + "\n" + String.join("\n", lines.subList(5, lines.size())) + "\n";
        Path key = TestPem.write(dir, "key.pem", pem);
        assertRefused(() -> TlsIdentity.fromPem(chain(rsa), key), Reason.MALFORMED_PEM, key,
                "unencrypted PKCS#8 key that cannot be parsed");
    }

    @Test
    void refusesCorruptBase64() {
        Path key = TestPem.write(dir, "key.pem", API.privateKeyPem().replaceFirst("\n[A-Za-z0-9+/]{8}", "\n!!!!!!!!"));
        assertRefused(() -> TlsIdentity.fromPem(chain(API), key), Reason.MALFORMED_PEM, key, "corrupt");
    }

    @Test
    void refusesGarbageFile() {
        Path key = TestPem.write(dir, "key.pem", "this is not a key\nnor a certificate\n");
        assertRefused(() -> TlsIdentity.fromPem(chain(API), key), Reason.MALFORMED_PEM, key, "no PEM block");
    }

    @Test
    void refusesBinaryJunk() {
        byte[] junk = new byte[512];
        new SecureRandom().nextBytes(junk);
        junk[0] = 0x30;
        junk[1] = 0x00;
        Path key = TestPem.write(dir, "key.der", junk);
        assertRefused(() -> TlsIdentity.fromPem(chain(API), key), Reason.MALFORMED_PEM, key, "binary data, not PEM");
    }

    @Test
    void refusesPkcs12PassedAsPem() {
        Path p12 = API.writePkcs12(dir.resolve("api.p12"), TestPem.PASSWORD);
        assertRefused(() -> TlsIdentity.fromPem(p12), Reason.MALFORMED_PEM, p12, "binary data", "fromPkcs12");
    }

    @Test
    void refusesEmptyFile() {
        Path key = TestPem.write(dir, "key.pem", "");
        assertRefused(() -> TlsIdentity.fromPem(chain(API), key), Reason.MALFORMED_PEM, key, "is empty");
    }

    @Test
    void refusesBlankFile() {
        Path chain = TestPem.write(dir, "chain.pem", "\r\n  \n");
        assertRefused(() -> TlsIdentity.fromPem(chain, key(API)), Reason.MALFORMED_PEM, chain, "is empty");
    }

    @Test
    void refusesMissingFile() {
        Path missing = dir.resolve("missing.pem");
        assertRefused(() -> TlsIdentity.fromPem(chain(API), missing), Reason.FILE_UNREADABLE, missing,
                "does not exist");
    }

    @Test
    void refusesDirectory() {
        assertRefused(() -> TlsIdentity.fromPem(dir), Reason.FILE_UNREADABLE, dir, "is a directory");
    }

    @Test
    void refusesCertificateWhereKeyWasExpected() {
        Path chain = chain(API);
        assertRefused(() -> TlsIdentity.fromPem(chain, chain), Reason.NO_PRIVATE_KEY, chain,
                "holds no private key (found 2 CERTIFICATE blocks)");
    }

    @Test
    void refusesKeyWhereChainWasExpected() {
        Path key = key(API);
        assertRefused(() -> TlsIdentity.fromPem(key, key), Reason.NO_CERTIFICATE, key,
                "holds no certificate (found 1 PRIVATE KEY block)");
    }

    @Test
    void refusesPublicKeyWhereKeyWasExpected() {
        Path key = TestPem.write(dir, "key.pem",
                TestPem.pem(new PemObject("PUBLIC KEY", API.certificate().getPublicKey().getEncoded())));
        assertRefused(() -> TlsIdentity.fromPem(chain(API), key), Reason.NO_PRIVATE_KEY, key, "1 PUBLIC KEY block");
    }

    @Test
    void refusesTwoPrivateKeys() {
        IssuedCertificate other = CA.leaf("api").issue();
        Path combined = TestPem.write(dir, "combined.pem",
                API.chainPem() + API.privateKeyPem() + other.privateKeyPem());
        assertRefused(() -> TlsIdentity.fromPem(combined), Reason.MULTIPLE_PRIVATE_KEYS, combined, "2 private keys");
    }

    @Test
    void refusesOpenSshKey() {
        byte[] body = "openssh-key-v1\0 not really".getBytes(StandardCharsets.US_ASCII);
        Path key = TestPem.write(dir, "id_ed25519", TestPem.pem(new PemObject("OPENSSH PRIVATE KEY", body)));
        assertRefused(() -> TlsIdentity.fromPem(chain(API), key), Reason.UNSUPPORTED_KEY_FORMAT, key,
                "OpenSSH", "ssh-keygen");
    }

    @Test
    void refusesUnknownKeyFormat() {
        Path key = TestPem.write(dir, "key.pem", TestPem.pem(new PemObject("SM2 PRIVATE KEY", new byte[] {0x30, 0})));
        assertRefused(() -> TlsIdentity.fromPem(chain(API), key), Reason.UNSUPPORTED_KEY_FORMAT, key,
                "'SM2 PRIVATE KEY' format", "PKCS#8");
    }

    // --- service identity

    @Test
    void refusesLeafWithTwoSpiffeIds() {
        KeyPair caKeys = TestPem.ecP256();
        X509Certificate ca = TestPem.selfSignedCa(caKeys, "Test CA");
        KeyPair keys = TestPem.ecP256();
        X509Certificate leaf = TestPem.leaf(ca, caKeys.getPrivate(), keys.getPublic(), "api",
                "spiffe://example.org/api", "spiffe://example.org/admin");
        assertRefused(() -> TlsIdentity.of(keys.getPrivate(), List.of(leaf)), Reason.INVALID_SERVICE_IDENTITY,
                "2 URI SANs", "spiffe://example.org/admin", "exactly one");
    }

    @Test
    void refusesLeafWithMalformedSpiffeId() {
        KeyPair caKeys = TestPem.ecP256();
        X509Certificate ca = TestPem.selfSignedCa(caKeys, "Test CA");
        KeyPair keys = TestPem.ecP256();
        X509Certificate leaf = TestPem.leaf(ca, caKeys.getPrivate(), keys.getPublic(), "api",
                "spiffe://Example.org:8443/api");
        assertRefused(() -> TlsIdentity.of(keys.getPrivate(), List.of(leaf)), Reason.INVALID_SERVICE_IDENTITY,
                "not a valid SPIFFE ID");
    }

    @Test
    void refusesEmptyChainInMemory() {
        assertRefused(() -> TlsIdentity.of(API.privateKey(), List.of()), Reason.NO_CERTIFICATE,
                "the given chain is empty");
    }
}
