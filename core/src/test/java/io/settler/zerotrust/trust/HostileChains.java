package io.settler.zerotrust.trust;

import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Objects;
import javax.security.auth.x500.X500Principal;
import org.bouncycastle.asn1.DERIA5String;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.AuthorityKeyIdentifier;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * Certificate chains that a peer without any certificate from our CA can build on its own, aimed
 * at one trust anchor whose name and key identifier it knows (both are public): the attacks of
 * the chain-verification tests, the handshake tests and the benchmark. Every key is the
 * attacker's (EC P-256); nothing is signed by the anchor. Immutable.
 */
public final class HostileChains {

    private static final String SIGNATURE = "SHA256withECDSA";

    private final X500Principal anchorName;
    private final byte[] anchorKeyId;

    private HostileChains(X509Certificate anchor) {
        this.anchorName = anchor.getSubjectX500Principal();
        this.anchorKeyId = CertificateView.of(anchor).subjectKeyId;
    }

    /** Chains aimed at {@code anchor}. */
    public static HostileChains against(X509Certificate anchor) {
        return new HostileChains(Objects.requireNonNull(anchor, "anchor"));
    }

    /**
     * The leaf key and the certificates a peer presents, leaf first.
     *
     * @param leafKey the private key of the leaf, for a TLS client that presents the chain
     * @param certificates the leaf, then the CAs
     */
    public record Chain(PrivateKey leafKey, List<X509Certificate> certificates) {
        /** Copies the list. */
        public Chain {
            certificates = List.copyOf(certificates);
        }

        /** The certificates as an array, for key managers. */
        public X509Certificate[] array() {
            return certificates.toArray(X509Certificate[]::new);
        }
    }

    /**
     * The attack of finding 9: {@code count} self-issued CAs that all bear the anchor's name, CA
     * {@code i} signed by CA {@code i + 1} (the last by the first), so every one of them is a
     * candidate issuer of every other and of the leaf, which the first one signed.
     */
    public Chain selfIssuedMaze(int count) {
        List<KeyPair> keys = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            keys.add(ec());
        }
        List<X509Certificate> cas = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            KeyPair signer = keys.get((i + 1) % count);
            cas.add(ca(anchorName, keys.get(i).getPublic(), anchorName, signer, anchorKeyId));
        }
        return withLeaf(anchorName, keys.get(0), cas);
    }

    /**
     * {@code count} CAs of distinct names in one line, the leaf issued by the first and the last
     * claiming to be issued by the anchor: a long chain whose every link verifies but the top one.
     */
    public Chain longLine(int count) {
        List<KeyPair> keys = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            keys.add(ec());
        }
        List<X509Certificate> cas = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            boolean top = i == count - 1;
            X500Principal issuer = top ? anchorName : name(i + 1);
            KeyPair signer = top ? ec() : keys.get(i + 1);
            cas.add(ca(name(i), keys.get(i).getPublic(), issuer, signer, top ? anchorKeyId : null));
        }
        return withLeaf(name(0), keys.get(0), cas);
    }

    /** {@code count} CAs, each claiming to be issued by the anchor, the leaf issued by one of them. */
    public Chain fan(int count) {
        KeyPair first = ec();
        List<X509Certificate> cas = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            cas.add(ca(anchorName, i == 0 ? first.getPublic() : ec().getPublic(), anchorName, ec(), anchorKeyId));
        }
        return withLeaf(anchorName, first, cas);
    }

    /**
     * A leaf with the given subject and SANs (DNS names and URIs taken as they are, control
     * characters included), issued under the anchor's name by the attacker's own key.
     */
    public Chain forgedLeaf(String subject, List<String> dnsNames, List<String> uris) {
        List<GeneralName> names = new ArrayList<>();
        dnsNames.forEach(n -> names.add(new GeneralName(GeneralName.dNSName, new DERIA5String(n))));
        uris.forEach(u -> names.add(new GeneralName(GeneralName.uniformResourceIdentifier, new DERIA5String(u))));
        KeyPair leafKeys = ec();
        return new Chain(leafKeys.getPrivate(), List.of(leaf(new X500Name(subject), leafKeys.getPublic(),
                anchorName, ec(), names)));
    }

    /**
     * A valid path through {@code count} intermediate CAs under a root of its own: the longest
     * chain a verifier trusting that root must still accept.
     *
     * @param root the root to trust
     * @param chain the leaf and the intermediates, leaf first
     */
    public record Rooted(X509Certificate root, Chain chain) {
    }

    /** A root and a valid chain through {@code count} intermediates under it. */
    public static Rooted validLine(int count) {
        KeyPair rootKeys = ec();
        X500Principal rootName = new X500Principal("CN=Deep Root");
        X509Certificate root = ca(rootName, rootKeys.getPublic(), rootName, rootKeys, null);
        List<X509Certificate> cas = new ArrayList<>();
        KeyPair signer = rootKeys;
        X500Principal issuer = rootName;
        for (int i = count - 1; i >= 0; i--) {
            KeyPair keys = ec();
            cas.add(0, ca(name(i), keys.getPublic(), issuer, signer, null));
            signer = keys;
            issuer = name(i);
        }
        return new Rooted(root, withLeaf(issuer, signer, cas));
    }

    private static Chain withLeaf(X500Principal issuer, KeyPair issuerKeys, List<X509Certificate> cas) {
        KeyPair leafKeys = ec();
        List<GeneralName> names = List.of(new GeneralName(GeneralName.uniformResourceIdentifier,
                "spiffe://example.org/attacker"));
        List<X509Certificate> certificates = new ArrayList<>();
        certificates.add(leaf(new X500Name("CN=attacker"), leafKeys.getPublic(), issuer, issuerKeys, names));
        certificates.addAll(cas);
        return new Chain(leafKeys.getPrivate(), certificates);
    }

    private static X509Certificate ca(X500Principal subject, PublicKey key, X500Principal issuer, KeyPair signer,
                                      byte[] authorityKeyId) {
        try {
            JcaX509ExtensionUtils utils = new JcaX509ExtensionUtils();
            X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(issuer, serial(), start(), end(),
                    subject, key);
            builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
            builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
            builder.addExtension(Extension.subjectKeyIdentifier, false, utils.createSubjectKeyIdentifier(key));
            builder.addExtension(Extension.authorityKeyIdentifier, false, authorityKeyId == null
                    ? utils.createAuthorityKeyIdentifier(signer.getPublic())
                    : new AuthorityKeyIdentifier(authorityKeyId));
            return sign(builder, signer.getPrivate());
        } catch (GeneralSecurityException | CertIOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static X509Certificate leaf(X500Name subject, PublicKey key, X500Principal issuer, KeyPair signer,
                                        List<GeneralName> names) {
        try {
            JcaX509ExtensionUtils utils = new JcaX509ExtensionUtils();
            X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(X500Name.getInstance(
                    issuer.getEncoded()), serial(), start(), end(), subject, key);
            builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
            builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
            builder.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(
                    new KeyPurposeId[] {KeyPurposeId.id_kp_clientAuth, KeyPurposeId.id_kp_serverAuth}));
            if (!names.isEmpty()) {
                builder.addExtension(Extension.subjectAlternativeName, false,
                        new GeneralNames(names.toArray(GeneralName[]::new)));
            }
            builder.addExtension(Extension.subjectKeyIdentifier, false, utils.createSubjectKeyIdentifier(key));
            builder.addExtension(Extension.authorityKeyIdentifier, false,
                    new AuthorityKeyIdentifier(utils.createSubjectKeyIdentifier(signer.getPublic())
                            .getKeyIdentifier()));
            return sign(builder, signer.getPrivate());
        } catch (GeneralSecurityException | CertIOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static X509Certificate sign(X509v3CertificateBuilder builder, PrivateKey key)
            throws GeneralSecurityException {
        try {
            return new JcaX509CertificateConverter().getCertificate(
                    builder.build(new JcaContentSignerBuilder(SIGNATURE).build(key)));
        } catch (OperatorCreationException e) {
            throw new GeneralSecurityException(e);
        }
    }

    private static X500Principal name(int i) {
        return new X500Principal("CN=Hostile CA " + i);
    }

    private static KeyPair ec() {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
            generator.initialize(new ECGenParameterSpec("secp256r1"));
            return generator.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
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
