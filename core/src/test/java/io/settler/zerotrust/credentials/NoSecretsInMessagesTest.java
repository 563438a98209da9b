package io.settler.zerotrust.credentials;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.settler.zerotrust.credentials.TestPem.KeyFormat;
import io.settler.zerotrust.pki.CertificateDefect;
import io.settler.zerotrust.pki.DevCertificateAuthority;
import io.settler.zerotrust.pki.IssuedCertificate;
import io.settler.zerotrust.pki.KeyAlgorithm;
import java.nio.file.Path;
import java.security.KeyPair;
import java.util.ArrayList;
import java.util.List;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * No exception message (nor any cause's), no {@code toString()} ever holds key material or a
 * password: provoke every kind of failure with one known key and look for its base64 in the text.
 */
class NoSecretsInMessagesTest {

    private static final DevCertificateAuthority CA =
            DevCertificateAuthority.builder("example.org").withIntermediate().build();

    @TempDir
    Path dir;

    @Test
    void noFailureRevealsTheKeyOrThePassword() {
        IssuedCertificate api = CA.leaf("api").keyAlgorithm(KeyAlgorithm.RSA_2048).issue();
        IssuedCertificate other = CA.leaf("api").issue();
        IssuedCertificate expired = CA.leaf("api").keyAlgorithm(KeyAlgorithm.RSA_2048)
                .defect(CertificateDefect.EXPIRED).issue();
        KeyPair keys = new KeyPair(api.certificate().getPublicKey(), api.privateKey());
        String keyPem = api.privateKeyPem();
        Path chain = TestPem.write(dir, "chain.pem", api.chainPem());
        Path key = TestPem.write(dir, "key.pem", keyPem);
        Path encrypted = TestPem.write(dir, "encrypted.pem", TestPem.key(keys, KeyFormat.ENCRYPTED_PKCS8));
        Path legacy = TestPem.write(dir, "legacy.pem", TestPem.key(keys, KeyFormat.LEGACY_ENCRYPTED));
        Path truncated = TestPem.write(dir, "truncated.pem", keyPem.substring(0, keyPem.length() - 60));
        List<String> lines = keyPem.lines().toList();
        Path holey = TestPem.write(dir, "holey.pem",
                lines.get(0) + "\n" + String.join("\n", lines.subList(4, lines.size())) + "\n");
        Path corrupt = TestPem.write(dir, "corrupt.pem", keyPem.replace(lines.get(3), "%" + lines.get(3).substring(1)));
        Path twoKeys = TestPem.write(dir, "two.pem", keyPem + other.privateKeyPem());
        Path p12 = api.writePkcs12(dir.resolve("api.p12"), TestPem.PASSWORD);
        Path keyAsP12 = key;

        List<ThrowingCallable> failures = List.of(
                () -> TlsIdentity.fromPem(TestPem.write(dir, "other.pem", other.chainPem()), key),
                () -> TlsIdentity.fromPem(chain, encrypted),
                () -> TlsIdentity.fromPem(chain, encrypted, "Tr0ub4dor&3".toCharArray()),
                () -> TlsIdentity.fromPem(chain, legacy, "Tr0ub4dor&3".toCharArray()),
                () -> TlsIdentity.fromPem(chain, truncated),
                () -> TlsIdentity.fromPem(chain, holey),
                () -> TlsIdentity.fromPem(chain, corrupt),
                () -> TlsIdentity.fromPem(chain, twoKeys),
                () -> TlsIdentity.fromPem(key, key),
                () -> TlsIdentity.fromPkcs12(p12, "Tr0ub4dor&3".toCharArray()),
                () -> TlsIdentity.fromPkcs12(keyAsP12, TestPem.PASSWORD),
                () -> TlsIdentity.of(api.privateKey(), other.chain()),
                () -> TlsIdentity.of(expired.privateKey(), expired.chain()),
                () -> TrustBundle.fromPem(TestPem.write(dir, "bundle.pem", api.caBundlePem() + keyPem)));

        List<String> texts = new ArrayList<>();
        for (ThrowingCallable failure : failures) {
            CredentialException e = catchThrowableOfType(CredentialException.class, failure);
            assertThat(e).isNotNull();
            for (Throwable t = e; t != null; t = t.getCause()) {
                texts.add(String.valueOf(t));
            }
        }
        texts.add(TlsIdentity.fromPem(chain, key).toString());
        texts.add(TlsIdentity.loader().password(TestPem.PASSWORD).toString());

        String base64 = TestPem.base64(api.privateKey());
        for (String text : texts) {
            assertThat(text).doesNotContain(base64).doesNotContain(new String(TestPem.PASSWORD))
                    .doesNotContain("Tr0ub4dor");
            for (String line : lines.subList(1, lines.size() - 1)) {
                assertThat(text).doesNotContain(line.substring(0, Math.min(line.length(), 24)));
            }
        }
    }
}
