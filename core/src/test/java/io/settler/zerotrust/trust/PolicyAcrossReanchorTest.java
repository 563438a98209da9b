package io.settler.zerotrust.trust;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.settler.zerotrust.trust.PeerVerificationException.Reason;
import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Provider;
import java.security.cert.CertPathValidator;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.IntFunction;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1Integer;
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
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Certificate policy constraints hold on every path. The JDK also checks a leaf's subject CN
 * against DNS name constraints when it looks like a DNS name; the verifier never uses the CN, so
 * it sets that refusal aside and used to let the JDK validate the rest of the path from the CA
 * above as a fresh anchor, which dropped the policy state of every CA above it: whether a leaf
 * without certificate policies passed under {@code requireExplicitPolicy=0} depended on whether
 * its CN looked like a DNS name. Each chain is built at test time; where the CN does not look
 * like a DNS name, the JDK's and Bouncy Castle's PKIX verdicts on the same chain are the reference.
 */
class PolicyAcrossReanchorTest {

    /** A CN the JDK checks against DNS name constraints (outside them), and one it does not. */
    private static final String DNS_LIKE_CN = "evil.example.net";
    private static final String PLAIN_CN = "api server";
    private static final ASN1ObjectIdentifier P1 = new ASN1ObjectIdentifier("1.3.6.1.4.1.55555.1");
    private static final ASN1ObjectIdentifier P2 = new ASN1ObjectIdentifier("1.3.6.1.4.1.55555.2");
    private static final ASN1ObjectIdentifier P3 = new ASN1ObjectIdentifier("1.3.6.1.4.1.55555.3");
    private static final ASN1ObjectIdentifier ANY_POLICY = new ASN1ObjectIdentifier("2.5.29.32.0");
    private static final Instant NOW = Instant.now();
    private static final Provider BC = new BouncyCastleProvider();
    private final AtomicLong serial = new AtomicLong(1);

    private final KeyPair rootKeys = ec();
    private final X509Certificate root = certificate("CN=Root", rootKeys, "CN=Root", rootKeys, true, b -> { });
    private final PeerCertificateVerifier verifier = PeerCertificateVerifier.builder().trustAnchors(List.of(root)).build();

    // ------------------------------------------------------------------ the attacks

    @ParameterizedTest
    @ValueSource(strings = {PLAIN_CN, DNS_LIKE_CN})
    void leafWithoutPolicyUnderRequireExplicitPolicyIsRefusedWhateverItsCommonName(String cn) throws Exception {
        List<X509Certificate> chain = line(cn, List.of(
                ca -> { requireExplicitPolicy(ca, 0, null); policies(ca, anyPolicy()); nameConstraints(ca); }),
                Optional.empty());

        assertRefusedForPolicy(chain, cn);
    }

    @ParameterizedTest
    @ValueSource(strings = {PLAIN_CN, DNS_LIKE_CN})
    void requireExplicitPolicyAboveTheNameConstrainedCaIsHonoured(String cn) throws Exception {
        List<X509Certificate> chain = line(cn, List.of(
                ca -> { requireExplicitPolicy(ca, 0, null); policies(ca, anyPolicy()); },
                ca -> { policies(ca, anyPolicy()); nameConstraints(ca); }),
                Optional.empty());

        assertRefusedForPolicy(chain, cn);
    }

    /** CA 0 allows anyPolicy in one more certificate (CA 1), not in the leaf, whose only policy it is. */
    @ParameterizedTest
    @ValueSource(strings = {PLAIN_CN, DNS_LIKE_CN})
    void inhibitAnyPolicyAboveTheNameConstrainedCaIsHonoured(String cn) throws Exception {
        List<X509Certificate> chain = line(cn, List.of(
                ca -> {
                    requireExplicitPolicy(ca, 0, null);
                    policies(ca, anyPolicy());
                    add(ca, Extension.inhibitAnyPolicy, true, new ASN1Integer(1));
                },
                ca -> { policies(ca, anyPolicy()); nameConstraints(ca); }),
                Optional.of(ANY_POLICY));

        assertRefusedForPolicy(chain, cn);
    }

    /** CA 0 inhibits the mapping CA 1 makes from P1 to P2, the leaf's only policy; CA 1 also holds P3. */
    @ParameterizedTest
    @ValueSource(strings = {PLAIN_CN, DNS_LIKE_CN})
    void inhibitPolicyMappingAboveTheNameConstrainedCaIsHonoured(String cn) throws Exception {
        List<X509Certificate> chain = line(cn, List.of(
                ca -> { requireExplicitPolicy(ca, 0, 0); policies(ca, P1, P3); },
                ca -> { policies(ca, P1, P3); mapping(ca, P1, P2); nameConstraints(ca); }),
                Optional.of(P2));

        assertRefusedForPolicy(chain, cn);
    }

    /** The JDK reads an intermediate's CN as a DNS name too: CA 1's, under CA 0's constraints. */
    @ParameterizedTest
    @ValueSource(strings = {PLAIN_CN, DNS_LIKE_CN})
    void requireExplicitPolicyHoldsWhateverAnIntermediatesCommonName(String cn) throws Exception {
        List<X509Certificate> chain = line(PLAIN_CN, "spiffe://example.org/api", i -> i == 1 ? cn : "CA " + i,
                List.of(
                        ca -> { requireExplicitPolicy(ca, 0, null); policies(ca, anyPolicy()); nameConstraints(ca); },
                        ca -> policies(ca, anyPolicy())),
                Optional.empty());

        assertRefusedForPolicy(chain, cn);
    }

    // ------------------------------------------------------------------ the rest of what a CA above says

    @ParameterizedTest
    @ValueSource(strings = {PLAIN_CN, DNS_LIKE_CN})
    void pathLengthAboveTheNameConstrainedCaIsHonoured(String cn) throws Exception {
        List<X509Certificate> chain = line(cn, List.of(
                ca -> replace(ca, Extension.basicConstraints, true, new BasicConstraints(0)),
                PolicyAcrossReanchorTest::nameConstraints),
                Optional.empty());

        assertRefused(chain, Reason.PATH_TOO_LONG);
    }

    /** CA 0 permits SPIFFE IDs of example.org only; the leaf's is in example.net. */
    @ParameterizedTest
    @ValueSource(strings = {PLAIN_CN, DNS_LIKE_CN})
    void nameConstraintsAboveTheNameConstrainedCaAreHonoured(String cn) throws Exception {
        List<X509Certificate> chain = line(cn, "spiffe://example.net/api", List.of(
                ca -> add(ca, Extension.nameConstraints, true, new NameConstraints(new GeneralSubtree[] {
                        new GeneralSubtree(new GeneralName(GeneralName.uniformResourceIdentifier, "example.org"))},
                        null)),
                PolicyAcrossReanchorTest::nameConstraints),
                Optional.empty());

        assertRefused(chain, Reason.NAME_CONSTRAINTS);
    }

    @ParameterizedTest
    @ValueSource(strings = {PLAIN_CN, DNS_LIKE_CN})
    void keyUsageAboveTheNameConstrainedCaIsHonoured(String cn) throws Exception {
        List<X509Certificate> chain = line(cn, List.of(
                ca -> replace(ca, Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature)),
                PolicyAcrossReanchorTest::nameConstraints),
                Optional.empty());

        assertRefused(chain, Reason.WRONG_KEY_USAGE);
    }

    // ------------------------------------------------------------------ what must still pass

    @ParameterizedTest
    @ValueSource(strings = {PLAIN_CN, DNS_LIKE_CN})
    void leafWithTheRequiredPolicyIsAcceptedWhateverItsCommonName(String cn) throws Exception {
        List<X509Certificate> chain = line(cn, List.of(
                ca -> { requireExplicitPolicy(ca, 0, null); policies(ca, P1); },
                ca -> { policies(ca, P1); mapping(ca, P1, P2); },
                ca -> { policies(ca, P2); nameConstraints(ca); }),
                Optional.of(P2));

        verifier.verifyClient(chain);
        if (cn.equals(PLAIN_CN)) {
            assertThat(jdkRefusal(chain)).as("the JDK's verdict").isEmpty();
            assertThat(bcRefusal(chain)).as("Bouncy Castle's verdict").isEmpty();
        }
    }

    // ------------------------------------------------------------------ helpers

    private void assertRefusedForPolicy(List<X509Certificate> chain, String cn) throws Exception {
        assertRefused(chain, Reason.POLICY);
        if (cn.equals(PLAIN_CN)) {
            assertThat(jdkRefusal(chain)).as("the JDK's verdict").isPresent();
            assertThat(bcRefusal(chain)).as("Bouncy Castle's verdict").isPresent();
        }
    }

    private void assertRefused(List<X509Certificate> chain, Reason reason) {
        assertThatThrownBy(() -> verifier.verifyClient(chain))
                .isInstanceOfSatisfying(PeerVerificationException.class,
                        e -> assertThat(e.reason()).as(e.getMessage()).isEqualTo(reason));
    }

    private Optional<String> jdkRefusal(List<X509Certificate> chain) throws GeneralSecurityException {
        return pkixRefusal(CertPathValidator.getInstance("PKIX"), chain);
    }

    private Optional<String> bcRefusal(List<X509Certificate> chain) throws GeneralSecurityException {
        return pkixRefusal(CertPathValidator.getInstance("PKIX", BC), chain);
    }

    private Optional<String> pkixRefusal(CertPathValidator validator, List<X509Certificate> chain)
            throws GeneralSecurityException {
        PKIXParameters parameters = new PKIXParameters(Set.of(new TrustAnchor(root, null)));
        parameters.setRevocationEnabled(false);
        try {
            validator.validate(CertificateFactory.getInstance("X.509").generateCertPath(chain), parameters);
            return Optional.empty();
        } catch (java.security.cert.CertPathValidatorException e) {
            return Optional.of(String.valueOf(e.getMessage()));
        }
    }

    /**
     * Leaf first: CAs issued from the root down, each customised by one of {@code cas}, then a
     * client leaf whose only name is a SPIFFE ID (no DNS name: so the JDK checks its CN against
     * DNS name constraints).
     */
    private List<X509Certificate> line(String cn, List<Consumer<X509v3CertificateBuilder>> cas,
                                       Optional<ASN1ObjectIdentifier> leafPolicy) {
        return line(cn, "spiffe://example.org/api", cas, leafPolicy);
    }

    private List<X509Certificate> line(String cn, String spiffeId, List<Consumer<X509v3CertificateBuilder>> cas,
                                       Optional<ASN1ObjectIdentifier> leafPolicy) {
        return line(cn, spiffeId, i -> "CA " + i, cas, leafPolicy);
    }

    private List<X509Certificate> line(String cn, String spiffeId, IntFunction<String> caCn,
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
        X509Certificate leaf = certificate("CN=" + cn, ec(), issuer, issuerKeys, false, b -> {
            leafPolicy.ifPresent(p -> policies(b, p));
            add(b, Extension.subjectAlternativeName, false,
                    new GeneralNames(new GeneralName(GeneralName.uniformResourceIdentifier, spiffeId)));
            add(b, Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_clientAuth));
        });
        chain.add(0, leaf);
        return chain;
    }

    private static PolicyInformation[] anyPolicy() {
        return new PolicyInformation[] {new PolicyInformation(ANY_POLICY)};
    }

    private static void policies(X509v3CertificateBuilder b, ASN1ObjectIdentifier... oids) {
        PolicyInformation[] info = new PolicyInformation[oids.length];
        for (int i = 0; i < oids.length; i++) {
            info[i] = new PolicyInformation(oids[i]);
        }
        policies(b, info);
    }

    private static void policies(X509v3CertificateBuilder b, PolicyInformation[] info) {
        add(b, Extension.certificatePolicies, false, new CertificatePolicies(info));
    }

    private static void requireExplicitPolicy(X509v3CertificateBuilder b, int require, Integer inhibitMapping) {
        add(b, Extension.policyConstraints, true, new PolicyConstraints(BigInteger.valueOf(require),
                inhibitMapping == null ? null : BigInteger.valueOf(inhibitMapping)));
    }

    private static void mapping(X509v3CertificateBuilder b, ASN1ObjectIdentifier from, ASN1ObjectIdentifier to) {
        add(b, Extension.policyMappings, true, new PolicyMappings(CertPolicyId.getInstance(from),
                CertPolicyId.getInstance(to)));
    }

    private static void nameConstraints(X509v3CertificateBuilder b) {
        add(b, Extension.nameConstraints, true, new NameConstraints(
                new GeneralSubtree[] {new GeneralSubtree(new GeneralName(GeneralName.dNSName, "example.org"))}, null));
    }

    private static void replace(X509v3CertificateBuilder b, ASN1ObjectIdentifier oid, boolean critical,
                                ASN1Encodable value) {
        try {
            b.replaceExtension(oid, critical, value);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static void add(X509v3CertificateBuilder b, ASN1ObjectIdentifier oid, boolean critical, ASN1Encodable value) {
        try {
            b.addExtension(oid, critical, value);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
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
