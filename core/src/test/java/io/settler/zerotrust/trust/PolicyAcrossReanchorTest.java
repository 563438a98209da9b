package io.settler.zerotrust.trust;

import static io.settler.zerotrust.trust.PolicyChains.ANY_POLICY;
import static io.settler.zerotrust.trust.PolicyChains.P1;
import static io.settler.zerotrust.trust.PolicyChains.P2;
import static io.settler.zerotrust.trust.PolicyChains.P3;
import static io.settler.zerotrust.trust.PolicyChains.add;
import static io.settler.zerotrust.trust.PolicyChains.anyPolicy;
import static io.settler.zerotrust.trust.PolicyChains.mapping;
import static io.settler.zerotrust.trust.PolicyChains.policies;
import static io.settler.zerotrust.trust.PolicyChains.replace;
import static io.settler.zerotrust.trust.PolicyChains.requireExplicitPolicy;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.settler.zerotrust.trust.PeerVerificationException.Reason;
import java.security.GeneralSecurityException;
import java.security.Provider;
import java.security.cert.CertPathValidator;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.bouncycastle.asn1.ASN1Integer;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralSubtree;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.asn1.x509.NameConstraints;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
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
    static final String DNS_LIKE_CN = "evil.example.net";
    static final String PLAIN_CN = "api server";
    private static final Provider BC = new BouncyCastleProvider();

    private final PolicyChains chains = new PolicyChains();
    private final X509Certificate root = chains.root();
    private final PeerCertificateVerifier verifier =
            PeerCertificateVerifier.builder().trustAnchors(List.of(root)).build();

    // ------------------------------------------------------------------ the attacks

    @ParameterizedTest
    @ValueSource(strings = {PLAIN_CN, DNS_LIKE_CN})
    void leafWithoutPolicyUnderRequireExplicitPolicyIsRefusedWhateverItsCommonName(String cn) throws Exception {
        List<X509Certificate> chain = chains.line(cn, List.of(
                ca -> {
                    requireExplicitPolicy(ca, 0, null);
                    policies(ca, anyPolicy());
                    PolicyChains.nameConstraints(ca);
                }),
                Optional.empty()).certificates();

        assertRefusedForPolicy(chain, cn);
    }

    @ParameterizedTest
    @ValueSource(strings = {PLAIN_CN, DNS_LIKE_CN})
    void requireExplicitPolicyAboveTheNameConstrainedCaIsHonoured(String cn) throws Exception {
        List<X509Certificate> chain = chains.line(cn, List.of(
                ca -> { requireExplicitPolicy(ca, 0, null); policies(ca, anyPolicy()); },
                ca -> { policies(ca, anyPolicy()); PolicyChains.nameConstraints(ca); }),
                Optional.empty()).certificates();

        assertRefusedForPolicy(chain, cn);
    }

    /** CA 0 allows anyPolicy in one more certificate (CA 1), not in the leaf, whose only policy it is. */
    @ParameterizedTest
    @ValueSource(strings = {PLAIN_CN, DNS_LIKE_CN})
    void inhibitAnyPolicyAboveTheNameConstrainedCaIsHonoured(String cn) throws Exception {
        List<X509Certificate> chain = chains.line(cn, List.of(
                ca -> {
                    requireExplicitPolicy(ca, 0, null);
                    policies(ca, anyPolicy());
                    add(ca, Extension.inhibitAnyPolicy, true, new ASN1Integer(1));
                },
                ca -> { policies(ca, anyPolicy()); PolicyChains.nameConstraints(ca); }),
                Optional.of(ANY_POLICY)).certificates();

        assertRefusedForPolicy(chain, cn);
    }

    /** CA 0 inhibits the mapping CA 1 makes from P1 to P2, the leaf's only policy; CA 1 also holds P3. */
    @ParameterizedTest
    @ValueSource(strings = {PLAIN_CN, DNS_LIKE_CN})
    void inhibitPolicyMappingAboveTheNameConstrainedCaIsHonoured(String cn) throws Exception {
        List<X509Certificate> chain = chains.line(cn, List.of(
                ca -> { requireExplicitPolicy(ca, 0, 0); policies(ca, P1, P3); },
                ca -> { policies(ca, P1, P3); mapping(ca, P1, P2); PolicyChains.nameConstraints(ca); }),
                Optional.of(P2)).certificates();

        assertRefusedForPolicy(chain, cn);
    }

    /** The JDK reads an intermediate's CN as a DNS name too: CA 1's, under CA 0's constraints. */
    @ParameterizedTest
    @ValueSource(strings = {PLAIN_CN, DNS_LIKE_CN})
    void requireExplicitPolicyHoldsWhateverAnIntermediatesCommonName(String cn) throws Exception {
        List<X509Certificate> chain = chains.line(PLAIN_CN, "spiffe://example.org/api", i -> i == 1 ? cn : "CA " + i,
                List.of(
                        ca -> {
                            requireExplicitPolicy(ca, 0, null);
                            policies(ca, anyPolicy());
                            PolicyChains.nameConstraints(ca);
                        },
                        ca -> policies(ca, anyPolicy())),
                Optional.empty()).certificates();

        assertRefusedForPolicy(chain, cn);
    }

    // ------------------------------------------------------------------ the rest of what a CA above says

    @ParameterizedTest
    @ValueSource(strings = {PLAIN_CN, DNS_LIKE_CN})
    void pathLengthAboveTheNameConstrainedCaIsHonoured(String cn) throws Exception {
        List<X509Certificate> chain = chains.line(cn, List.of(
                ca -> replace(ca, Extension.basicConstraints, true, new BasicConstraints(0)),
                PolicyChains::nameConstraints),
                Optional.empty()).certificates();

        assertRefused(chain, Reason.PATH_TOO_LONG);
    }

    /** CA 0 permits SPIFFE IDs of example.org only; the leaf's is in example.net. */
    @ParameterizedTest
    @ValueSource(strings = {PLAIN_CN, DNS_LIKE_CN})
    void nameConstraintsAboveTheNameConstrainedCaAreHonoured(String cn) throws Exception {
        List<X509Certificate> chain = chains.line(cn, "spiffe://example.net/api", List.of(
                ca -> add(ca, Extension.nameConstraints, true, new NameConstraints(new GeneralSubtree[] {
                        new GeneralSubtree(new GeneralName(GeneralName.uniformResourceIdentifier, "example.org"))},
                        null)),
                PolicyChains::nameConstraints),
                Optional.empty()).certificates();

        assertRefused(chain, Reason.NAME_CONSTRAINTS);
    }

    @ParameterizedTest
    @ValueSource(strings = {PLAIN_CN, DNS_LIKE_CN})
    void keyUsageAboveTheNameConstrainedCaIsHonoured(String cn) throws Exception {
        List<X509Certificate> chain = chains.line(cn, List.of(
                ca -> replace(ca, Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature)),
                PolicyChains::nameConstraints),
                Optional.empty()).certificates();

        assertRefused(chain, Reason.WRONG_KEY_USAGE);
    }

    // ------------------------------------------------------------------ what must still pass

    @ParameterizedTest
    @ValueSource(strings = {PLAIN_CN, DNS_LIKE_CN})
    void leafWithTheRequiredPolicyIsAcceptedWhateverItsCommonName(String cn) throws Exception {
        List<X509Certificate> chain = chains.line(cn, List.of(
                ca -> { requireExplicitPolicy(ca, 0, null); policies(ca, P1); },
                ca -> { policies(ca, P1); mapping(ca, P1, P2); },
                ca -> { policies(ca, P2); PolicyChains.nameConstraints(ca); }),
                Optional.of(P2)).certificates();

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
        } catch (CertPathValidatorException e) {
            return Optional.of(String.valueOf(e.getMessage()));
        }
    }
}
