package io.settler.zerotrust.tls;

import static org.assertj.core.api.Assertions.assertThat;

import io.settler.zerotrust.audit.AuditEvent;
import io.settler.zerotrust.audit.CoreTestAudit;
import io.settler.zerotrust.authz.PeerAuthorizer;
import io.settler.zerotrust.credentials.CredentialSource;
import io.settler.zerotrust.credentials.TlsIdentity;
import io.settler.zerotrust.credentials.TrustBundle;
import io.settler.zerotrust.pki.DevCertificateAuthority;
import io.settler.zerotrust.pki.IssuedCertificate;
import io.settler.zerotrust.pki.KeyAlgorithm;
import io.settler.zerotrust.pki.PemFiles;
import io.settler.zerotrust.testing.BouncyCastleRegistration.Position;
import io.settler.zerotrust.testing.BouncyCastleRegistration.Registration;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * An application that registers Bouncy Castle as a JCA provider (first or last, as many do) must
 * still complete handshakes: BC's key factories name EC keys {@code ECDSA}, and a key loaded that
 * way matched no key type JSSE asks for, so every handshake of every context failed ("No available
 * authentication scheme"). Keys are loaded from files while BC is registered, as in production.
 * The surefire executions {@code bouncycastle-first} and {@code bouncycastle-last} run the other
 * handshake and credential tests with BC registered as well.
 */
class BouncyCastleRegisteredTest {

    private static final String WORKER = "spiffe://example.org/worker";
    private static final char[] PASSWORD = "changeit".toCharArray();

    @TempDir
    Path dir;

    /** What the test loads the identities from, as an application would. */
    enum Format { PEM, PKCS12 }

    /**
     * Not Ed25519: with BC first, every certificate parser (the JDK's too) takes the leaf's public
     * key from BC's key factory, named {@code Ed25519} where JSSE requires {@code EdDSA} (a known
     * limit, see core/README.md).
     */
    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({"EC_P256, PEM", "EC_P384, PKCS12", "RSA_2048, PEM"})
    @SuppressWarnings("try") // the registration need only last the block
    void handshakeSucceedsWithBouncyCastleRegisteredFirst(KeyAlgorithm algorithm, Format format) throws Exception {
        try (Registration registered = Position.FIRST.register()) {
            handshakes(algorithm, format);
        }
    }

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({"EC_P256, PEM", "EC_P384, PKCS12", "RSA_2048, PEM", "ED25519, PEM"})
    @SuppressWarnings("try") // the registration need only last the block
    void handshakeSucceedsWithBouncyCastleRegisteredLast(KeyAlgorithm algorithm, Format format) throws Exception {
        try (Registration registered = Position.LAST.register()) {
            handshakes(algorithm, format);
        }
    }

    /** Issues, writes and loads both sides' keys while BC is registered, then one handshake. */
    private void handshakes(KeyAlgorithm algorithm, Format format) throws Exception {
        DevCertificateAuthority ca = DevCertificateAuthority.builder("example.org").keyAlgorithm(algorithm).build();
        IssuedCertificate server = ca.leaf("api").keyAlgorithm(algorithm).serverAndClient()
                .dnsNames("localhost").issue();
        IssuedCertificate worker = ca.leaf("worker").keyAlgorithm(algorithm).issue();
        List<AuditEvent> audit = new CopyOnWriteArrayList<>();
        MtlsContext serverContext = MtlsContext.server(load(server, ca, "api", format),
                PeerAuthorizer.builder().allowIdentities(WORKER).build()).auditLog(CoreTestAudit.into(audit))
                .build();
        MtlsContext clientContext = MtlsContext.client(load(worker, ca, "worker", format)).build();

        Loopback.Outcome outcome = Loopback.exchange(serverContext, clientContext.socketFactory(), "localhost");

        assertThat(outcome.succeeded()).as(outcome.toString()).isTrue();
        assertThat(audit).filteredOn(e -> e.action().equals("peer.accepted"))
                .singleElement().satisfies(e -> assertThat(e.fields()).containsEntry("identity", WORKER));
    }

    private CredentialSource load(IssuedCertificate issued, DevCertificateAuthority ca, String name, Format format) {
        TlsIdentity identity = switch (format) {
            case PEM -> {
                PemFiles files = issued.writePem(dir.resolve(name), name);
                yield TlsIdentity.fromPem(files.chain(), files.privateKey());
            }
            case PKCS12 -> TlsIdentity.fromPkcs12(issued.writePkcs12(dir.resolve(name + ".p12"), PASSWORD), PASSWORD);
        };
        return CredentialSource.fixed(identity, TrustBundle.of(List.of(ca.rootCertificate())));
    }

    @Test
    void keyManagerMatchesAnEcdsaNamedKeyToKeyTypeEc() throws Exception {
        IssuedCertificate issued = DevCertificateAuthority.create("example.org").leaf("api").issue();
        PrivateKey ecdsa = KeyFactory.getInstance("ECDSA", new BouncyCastleProvider())
                .generatePrivate(new PKCS8EncodedKeySpec(issued.privateKey().getEncoded()));
        assertThat(ecdsa.getAlgorithm()).as("the name BC gives EC keys").isEqualTo("ECDSA");
        SnapshotKeyManager.KeyMaterial material = new SnapshotKeyManager.KeyMaterial(7, ecdsa,
                issued.chain().toArray(X509Certificate[]::new));
        SnapshotKeyManager keyManager = new SnapshotKeyManager(() -> material);

        assertThat(keyManager.chooseServerAlias("EC", null, null)).isEqualTo("settler-7");
        assertThat(keyManager.chooseEngineClientAlias(new String[] {"RSA", "EC"}, null, null)).isEqualTo("settler-7");
        assertThat(keyManager.chooseServerAlias("RSA", null, null)).isNull();
        assertThat(keyManager.getPrivateKey("settler-7")).isSameAs(ecdsa);
    }
}
