package io.settler.zerotrust.trust;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.IntFunction;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.CertPolicyId;
import org.bouncycastle.asn1.x509.CertificatePolicies;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.GeneralSubtree;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.asn1.x509.NameConstraints;
import org.bouncycastle.asn1.x509.PolicyConstraints;
import org.bouncycastle.asn1.x509.PolicyInformation;
import org.bouncycastle.asn1.x509.PolicyMappings;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * Chains with certificate policy extensions and name constraints, built with Bouncy Castle at test
 * time under one root: for {@link PolicyAcrossReanchorTest} and the handshake tests that present them.
 */
public final class PolicyChains {

    /** Test policy OIDs, and anyPolicy. */
    public static final ASN1ObjectIdentifier P1 = new ASN1ObjectIdentifier("1.3.6.1.4.1.55555.1");
    public static final ASN1ObjectIdentifier P2 = new ASN1ObjectIdentifier("1.3.6.1.4.1.55555.2");
    public static final ASN1ObjectIdentifier P3 = new ASN1ObjectIdentifier("1.3.6.1.4.1.55555.3");
    public static final ASN1ObjectIdentifier ANY_POLICY = new ASN1ObjectIdentifier("2.5.29.32.0");
    private static final Instant NOW = Instant.now();

    private final AtomicLong serial = new AtomicLong(1);
    private final KeyPair rootKeys = ec();
    private final X509Certificate root = certificate("CN=Root", rootKeys, "CN=Root", rootKeys, true, b -> { });

    /** A chain, leaf first (without the root), and the leaf's private key. */
    public record Chain(List<X509Certificate> certificates, PrivateKey leafKey) {
    }

    /** The self-signed root every chain ends at. */
    public X509Certificate root() {
        return root;
    }

    /**
     * Leaf first: CAs issued from the root down, each customised by one of {@code cas}, then a
     * client leaf whose only name is a SPIFFE ID (no DNS name: so the JDK checks its CN against
     * DNS name constraints).
     */
    public Chain line(String cn, List<Consumer<X509v3CertificateBuilder>> cas,
                                       Optional<ASN1ObjectIdentifier> leafPolicy) {
        return line(cn, "spiffe://example.org/api", cas, leafPolicy);
    }

    public Chain line(String cn, String spiffeId, List<Consumer<X509v3CertificateBuilder>> cas,
                                       Optional<ASN1ObjectIdentifier> leafPolicy) {
        return line(cn, spiffeId, i -> "CA " + i, cas, leafPolicy);
    }

    public Chain line(String cn, String spiffeId, IntFunction<String> caCn,
                                       List<Consumer<X509v3CertificateBuilder>> cas,
                                       Optional<ASN1ObjectIdentifier> leafPolicy) {
        List<X509Certificate> chain = new ArrayList<>();
        String issuer = "CN=Root";
        KeyPair issuerKeys = rootKeys;
        for (int i = 0; i < cas.size(); i++) {
            KeyPair keys = ec();
            String subject = "CN=" + caCn.apply(i);
            chain.add(0, certificate(subject, keys, issuer, issuerKeys, true, cas.get(i)));
            issuer = subject;
            issuerKeys = keys;
        }
        KeyPair leafKeys = ec();
        X509Certificate leaf = certificate("CN=" + cn, leafKeys, issuer, issuerKeys, false, b -> {
            leafPolicy.ifPresent(p -> policies(b, p));
            add(b, Extension.subjectAlternativeName, false,
                    new GeneralNames(new GeneralName(GeneralName.uniformResourceIdentifier, spiffeId)));
            add(b, Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_clientAuth));
        });
        chain.add(0, leaf);
        return new Chain(List.copyOf(chain), leafKeys.getPrivate());
    }

    public static PolicyInformation[] anyPolicy() {
        return new PolicyInformation[] {new PolicyInformation(ANY_POLICY)};
    }

    public static void policies(X509v3CertificateBuilder b, ASN1ObjectIdentifier... oids) {
        PolicyInformation[] info = new PolicyInformation[oids.length];
        for (int i = 0; i < oids.length; i++) {
            info[i] = new PolicyInformation(oids[i]);
        }
        policies(b, info);
    }

    public static void policies(X509v3CertificateBuilder b, PolicyInformation[] info) {
        add(b, Extension.certificatePolicies, false, new CertificatePolicies(info));
    }

    public static void requireExplicitPolicy(X509v3CertificateBuilder b, int require, Integer inhibitMapping) {
        add(b, Extension.policyConstraints, true, new PolicyConstraints(BigInteger.valueOf(require),
                inhibitMapping == null ? null : BigInteger.valueOf(inhibitMapping)));
    }

    public static void mapping(X509v3CertificateBuilder b, ASN1ObjectIdentifier from, ASN1ObjectIdentifier to) {
        add(b, Extension.policyMappings, true, new PolicyMappings(CertPolicyId.getInstance(from),
                CertPolicyId.getInstance(to)));
    }

    public static void nameConstraints(X509v3CertificateBuilder b) {
        add(b, Extension.nameConstraints, true, new NameConstraints(
                new GeneralSubtree[] {new GeneralSubtree(new GeneralName(GeneralName.dNSName, "example.org"))}, null));
    }

    public static void replace(X509v3CertificateBuilder b, ASN1ObjectIdentifier oid, boolean critical,
                                ASN1Encodable value) {
        try {
            b.replaceExtension(oid, critical, value);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static void add(X509v3CertificateBuilder b, ASN1ObjectIdentifier oid, boolean critical,
            ASN1Encodable value) {
        try {
            b.addExtension(oid, critical, value);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private X509Certificate certificate(String subject, KeyPair keys, String issuer, KeyPair issuerKeys, boolean ca,
                                        Consumer<X509v3CertificateBuilder> customise) {
        try {
            X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(new X500Name(issuer),
                    BigInteger.valueOf(serial.getAndIncrement()), Date.from(NOW.minus(Duration.ofHours(1))),
                    Date.from(NOW.plus(Duration.ofDays(1))), new X500Name(subject), keys.getPublic());
            JcaX509ExtensionUtils ids = new JcaX509ExtensionUtils();
            b.addExtension(Extension.subjectKeyIdentifier, false, ids.createSubjectKeyIdentifier(keys.getPublic()));
            b.addExtension(Extension.authorityKeyIdentifier, false,
                    ids.createAuthorityKeyIdentifier(issuerKeys.getPublic()));
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(ca));
            b.addExtension(Extension.keyUsage, true, new KeyUsage(ca
                    ? KeyUsage.keyCertSign | KeyUsage.cRLSign : KeyUsage.digitalSignature));
            customise.accept(b);
            return new JcaX509CertificateConverter().getCertificate(b.build(
                    new JcaContentSignerBuilder("SHA256withECDSA").build(issuerKeys.getPrivate())));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
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
}
