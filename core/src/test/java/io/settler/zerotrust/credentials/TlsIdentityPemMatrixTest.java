package io.settler.zerotrust.credentials;

import static org.assertj.core.api.Assertions.assertThat;

import io.settler.zerotrust.credentials.TestPem.KeyFormat;
import io.settler.zerotrust.pki.DevCertificateAuthority;
import io.settler.zerotrust.pki.IssuedCertificate;
import io.settler.zerotrust.pki.KeyAlgorithm;
import java.io.StringReader;
import java.nio.file.Path;
import java.security.KeyPair;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every key type in every PEM format that applies to it, as separate files and as one file in
 * either order, with LF and CRLF line endings: each loads, and its key belongs to the leaf.
 */
class TlsIdentityPemMatrixTest {

    private static final DevCertificateAuthority CA =
            DevCertificateAuthority.builder("example.org").withIntermediate().build();
    private static final Map<KeyAlgorithm, IssuedCertificate> LEAVES = new EnumMap<>(KeyAlgorithm.class);

    /** How the chain and key are laid out on disk. */
    enum Layout { SEPARATE_FILES, ONE_FILE_KEY_FIRST, ONE_FILE_CHAIN_FIRST }

    @TempDir
    Path dir;

    static Stream<Arguments> matrix() {
        List<Arguments> cases = new ArrayList<>();
        for (KeyAlgorithm algorithm : List.of(KeyAlgorithm.RSA_2048, KeyAlgorithm.EC_P256, KeyAlgorithm.EC_P384,
                KeyAlgorithm.ED25519)) {
            for (KeyFormat format : formatsFor(algorithm)) {
                for (Layout layout : Layout.values()) {
                    for (boolean crlf : new boolean[] {false, true}) {
                        cases.add(Arguments.of(algorithm, format, layout, crlf ? "CRLF" : "LF"));
                    }
                }
            }
        }
        return cases.stream();
    }

    private static List<KeyFormat> formatsFor(KeyAlgorithm algorithm) {
        return switch (algorithm) {
            case RSA_2048, RSA_3072 -> List.of(KeyFormat.PKCS8, KeyFormat.ENCRYPTED_PKCS8, KeyFormat.PKCS1,
                    KeyFormat.LEGACY_ENCRYPTED);
            case EC_P256, EC_P384 -> List.of(KeyFormat.PKCS8, KeyFormat.ENCRYPTED_PKCS8, KeyFormat.SEC1,
                    KeyFormat.SEC1_WITHOUT_CURVE, KeyFormat.SEC1_WITHOUT_PUBLIC_KEY, KeyFormat.SEC1_BARE,
                    KeyFormat.LEGACY_ENCRYPTED);
            // Ed25519 keys exist only as PKCS#8; OpenSSL's legacy encryption does not apply to them.
            case ED25519 -> List.of(KeyFormat.PKCS8, KeyFormat.ENCRYPTED_PKCS8);
        };
    }

    static synchronized IssuedCertificate leaf(KeyAlgorithm algorithm) {
        return LEAVES.computeIfAbsent(algorithm, a -> CA.leaf("api").keyAlgorithm(a).issue());
    }

    @ParameterizedTest(name = "{0} {1} {2} {3}")
    @MethodSource("matrix")
    void loadsAndKeyMatchesLeaf(KeyAlgorithm algorithm, KeyFormat format, Layout layout, String lineEnding) {
        IssuedCertificate issued = leaf(algorithm);
        KeyPair keys = new KeyPair(issued.certificate().getPublicKey(), issued.privateKey());
        String keyPem = TestPem.key(keys, format);
        String chainPem = issued.chainPem();
        assertThat(keyPem).as("the format under test").startsWith(expectedBegin(algorithm, format));
        assertThat(keyPem.contains("Proc-Type: 4,ENCRYPTED")).isEqualTo(format == KeyFormat.LEGACY_ENCRYPTED);
        boolean crlf = lineEnding.equals("CRLF");
        char[] password = format.encrypted() ? TestPem.PASSWORD.clone() : null;

        TlsIdentity identity = switch (layout) {
            case SEPARATE_FILES -> {
                Path chain = TestPem.write(dir, "chain.pem", chainPem, crlf);
                Path key = TestPem.write(dir, "key.pem", keyPem, crlf);
                yield password == null ? TlsIdentity.fromPem(chain, key) : TlsIdentity.fromPem(chain, key, password);
            }
            case ONE_FILE_KEY_FIRST -> {
                Path combined = TestPem.write(dir, "combined.pem", keyPem + chainPem, crlf);
                yield password == null ? TlsIdentity.fromPem(combined) : TlsIdentity.fromPem(combined, password);
            }
            case ONE_FILE_CHAIN_FIRST -> {
                Path combined = TestPem.write(dir, "combined.pem", chainPem + keyPem, crlf);
                yield password == null ? TlsIdentity.fromPem(combined) : TlsIdentity.fromPem(combined, password);
            }
        };

        assertThat(identity.chain()).containsExactlyElementsOf(issued.chain()).hasSize(2);
        assertThat(identity.certificate()).isEqualTo(issued.certificate());
        assertThat(identity.identity()).contains(issued.identity());
        assertThat(TestPem.signsFor(identity.privateKey(), issued.certificate().getPublicKey())).isTrue();
        assertThat(TestPem.hasJsseAlgorithmName(identity.privateKey()))
                .as("a key object named as JSSE requires, not a %s %s",
                        identity.privateKey().getAlgorithm(), identity.privateKey().getClass().getName()).isTrue();
    }

    private static String expectedBegin(KeyAlgorithm algorithm, KeyFormat format) {
        return "-----BEGIN " + switch (format) {
            case PKCS8 -> "PRIVATE KEY";
            case ENCRYPTED_PKCS8 -> "ENCRYPTED PRIVATE KEY";
            case PKCS1 -> "RSA PRIVATE KEY";
            case SEC1, SEC1_WITHOUT_CURVE, SEC1_WITHOUT_PUBLIC_KEY, SEC1_BARE -> "EC PRIVATE KEY";
            case LEGACY_ENCRYPTED -> algorithm == KeyAlgorithm.RSA_2048 ? "RSA PRIVATE KEY" : "EC PRIVATE KEY";
        } + "-----";
    }

    @ParameterizedTest
    @EnumSource(value = KeyAlgorithm.class, names = {"EC_P256", "EC_P384"})
    void sec1KeysWithoutCurveReallyOmitIt(KeyAlgorithm algorithm) throws Exception {
        IssuedCertificate issued = leaf(algorithm);
        KeyPair keys = new KeyPair(issued.certificate().getPublicKey(), issued.privateKey());
        for (KeyFormat format : List.of(KeyFormat.SEC1_WITHOUT_CURVE, KeyFormat.SEC1_BARE)) {
            try (PEMParser parser = new PEMParser(new StringReader(TestPem.key(keys, format)))) {
                PEMKeyPair pair = (PEMKeyPair) parser.readObject();
                assertThat(pair.getPrivateKeyInfo().getPrivateKeyAlgorithm().getParameters()).as(format.name())
                        .isNull();
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = KeyAlgorithm.class, names = {"RSA_2048", "EC_P256", "EC_P384", "ED25519"})
    void toleratesTextAroundBlocksLikeOpensslBagAttributes(KeyAlgorithm algorithm) {
        IssuedCertificate issued = leaf(algorithm);
        String text = "Bag Attributes\n    localKeyID: 01 00 00 00\n    friendlyName: api\n"
                + "subject=/CN=api\nissuer=/O=Settler/CN=Intermediate\n"
                + issued.chainPem().replace("-----END CERTIFICATE-----\n-----BEGIN",
                        "-----END CERTIFICATE-----\n\nBag Attributes: <No Attributes>\nsubject=/CN=int\n-----BEGIN")
                + "Key Attributes: <No Attributes>\n" + issued.privateKeyPem() + "trailing words\n";

        TlsIdentity identity = TlsIdentity.fromPem(TestPem.write(dir, "openssl.pem", text));

        assertThat(identity.chain()).containsExactlyElementsOf(issued.chain());
    }
}
