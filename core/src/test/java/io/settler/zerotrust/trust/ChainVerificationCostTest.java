package io.settler.zerotrust.trust;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.settler.zerotrust.pki.DevCertificateAuthority;
import io.settler.zerotrust.pki.IssuedCertificate;
import io.settler.zerotrust.trust.PeerVerificationException.Reason;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The work an unauthenticated peer can make chain verification do. Each attack is a chain the
 * peer builds with its own keys; the refusal is asserted, and so is the number of signature
 * checks it cost ({@link PathSearch.Budget#spent()}, the JDK validator's included), which is
 * what makes verification expensive. The audit events of these refusals in a real handshake are
 * asserted in netty-mtls ({@code ChainVerificationCostHandshakeTest}).
 */
class ChainVerificationCostTest {

    private final DevCertificateAuthority ca = DevCertificateAuthority.create("example.org");
    private final PeerCertificateVerifier verifier = PeerCertificateVerifier.builder()
            .trustAnchors(List.of(ca.rootCertificate()))
            .build();
    private final HostileChains attacker = HostileChains.against(ca.rootCertificate());

    @Test
    void refusesSelfIssuedCasSharingTheAnchorsNameWithoutCheckingTheirSignatures() {
        // The finding: 3-4 s of path search per call before the fix. Eight certificates: as many
        // as a JDK server takes from a client.
        PathSearch.Budget budget = verifier.newBudget();
        List<X509Certificate> maze = attacker.selfIssuedMaze(7).certificates();

        assertRefused(() -> verifier.verifyClient(maze, budget), Reason.PATH_SEARCH_LIMIT);
        // Only the anchor's key is used, on the first MAX_CANDIDATES CAs that name it as their issuer.
        assertThat(budget.spent()).isEqualTo(PathSearch.MAX_CANDIDATES);
    }

    @Test
    void refusesLargestSelfIssuedMazeWithinTheWalksLimit() {
        PathSearch.Budget budget = verifier.newBudget();
        List<X509Certificate> maze = attacker.selfIssuedMaze(PeerCertificateVerifier.MAX_PRESENTED - 1)
                .certificates();

        assertRefused(() -> verifier.verifyClient(maze, budget), Reason.PATH_SEARCH_LIMIT);
        assertThat(budget.spent()).isEqualTo(PathSearch.MAX_CANDIDATES);
    }

    @Test
    void refusesLongChainOfTheAttackersOwnCasAfterOneSignatureCheck() {
        PathSearch.Budget budget = verifier.newBudget();
        List<X509Certificate> line = attacker.longLine(PeerCertificateVerifier.DEFAULT_MAX_INTERMEDIATES + 1)
                .certificates();

        assertRefused(() -> verifier.verifyClient(line, budget), Reason.UNTRUSTED_ISSUER);
        assertThat(budget.spent()).as("only the top CA is checked, with the anchor's key").isEqualTo(1);
    }

    @Test
    void refusesPileOfCasClaimingTheAnchorAsIssuerWithinTheCandidateLimit() {
        PathSearch.Budget budget = verifier.newBudget();
        List<X509Certificate> fan = attacker.fan(PeerCertificateVerifier.MAX_PRESENTED - 1).certificates();

        assertRefused(() -> verifier.verifyClient(fan, budget), Reason.PATH_SEARCH_LIMIT);
        assertThat(budget.spent()).isEqualTo(PathSearch.MAX_CANDIDATES);
    }

    @Test
    void refusesMoreCertificatesThanAnyChainHoldsBeforeAnySignatureCheck() {
        PathSearch.Budget budget = verifier.newBudget();
        List<X509Certificate> tooMany = attacker.selfIssuedMaze(PeerCertificateVerifier.MAX_PRESENTED)
                .certificates();

        assertRefused(() -> verifier.verifyClient(tooMany, budget), Reason.PATH_SEARCH_LIMIT);
        assertThat(budget.spent()).isZero();
    }

    @Test
    void refusesChainOfTooManyBytesBeforeAnySignatureCheck() {
        PathSearch.Budget budget = verifier.newBudget();
        // One leaf whose DNS names alone exceed the byte limit.
        List<String> names = Collections.nCopies(PeerCertificateVerifier.MAX_PRESENTED_BYTES / 40,
                "a-rather-long-host-name-label-for-padding.example.org");
        List<X509Certificate> huge = attacker.forgedLeaf("CN=attacker", names, List.of()).certificates();

        assertRefused(() -> verifier.verifyClient(huge, budget), Reason.PATH_SEARCH_LIMIT);
        assertThat(budget.spent()).isZero();
    }

    @Test
    void chargesTheJdkValidatorsSignatureChecksToTheBudget() {
        PathSearch.Budget budget = new PathSearch.Budget(1);
        IssuedCertificate valid = ca.leaf("worker").issue();

        // Ours on the leaf (1), then the JDK's on the leaf again (2): over a budget of one.
        assertRefused(() -> verifier.verifyClient(valid.chain(), budget), Reason.PATH_SEARCH_LIMIT);
        assertThat(budget.spent()).isEqualTo(2);
    }

    // ------------------------------------------------------------------ what still passes

    @Test
    void acceptsTheLongestAllowedPathWithinTheBudget() throws Exception {
        HostileChains.Rooted deepest = HostileChains.validLine(PeerCertificateVerifier.DEFAULT_MAX_INTERMEDIATES);
        PeerCertificateVerifier deep = PeerCertificateVerifier.builder().trustAnchors(List.of(deepest.root())).build();
        PathSearch.Budget budget = deep.newBudget();

        VerifiedPeer peer = deep.verifyClient(deepest.chain().certificates(), budget);

        assertThat(peer.path()).hasSize(deepest.chain().certificates().size() + 1);
        assertThat(budget.spent()).isLessThanOrEqualTo(budget.limit());
    }

    @Test
    void acceptsValidChainAmongFakesOfTheSameNames() throws Exception {
        DevCertificateAuthority withIntermediate = DevCertificateAuthority.builder("example.org")
                .withIntermediate().build();
        IssuedCertificate valid = withIntermediate.leaf("worker").issue();
        PeerCertificateVerifier verifier = PeerCertificateVerifier.builder()
                .trustAnchors(List.of(withIntermediate.rootCertificate())).build();
        List<X509Certificate> presented = new ArrayList<>(valid.chain());
        // Two fakes of the root's name in front of the real intermediate.
        presented.addAll(1, HostileChains.against(withIntermediate.rootCertificate()).fan(2).certificates()
                .subList(1, 3));

        assertThat(verifier.verifyClient(presented).path()).hasSize(3);
    }

    private interface Verification {
        VerifiedPeer run() throws PeerVerificationException;
    }

    private static void assertRefused(Verification verification, Reason reason) {
        assertThatThrownBy(verification::run)
                .isInstanceOf(PeerVerificationException.class)
                .satisfies(e -> assertThat(((PeerVerificationException) e).reason())
                        .as("reason of: %s", e.getMessage()).isEqualTo(reason));
    }
}
