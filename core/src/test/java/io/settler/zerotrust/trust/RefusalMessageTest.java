package io.settler.zerotrust.trust;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.settler.zerotrust.pki.DevCertificateAuthority;
import io.settler.zerotrust.trust.PeerVerificationException.Reason;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * A refusal's message names what the peer chose: certificate names, SANs, SPIFFE IDs. Each test
 * presents names carrying CR/LF and an ANSI escape and asserts that the refusal's message is one
 * line of printable ASCII with those characters escaped, so logging it cannot forge log lines.
 * (The audit event and the log lines of such a refusal in a real handshake are asserted in
 * netty-mtls's {@code HostileClientHandshakeTest}.)
 */
class RefusalMessageTest {

    private static final Pattern UNSAFE = Pattern.compile("[^\\x20-\\x7e]");

    private final DevCertificateAuthority ca = DevCertificateAuthority.create("example.org");
    private final PeerCertificateVerifier verifier = PeerCertificateVerifier.builder()
            .trustAnchors(List.of(ca.rootCertificate()))
            .build();
    private final HostileChains attacker = HostileChains.against(ca.rootCertificate());

    @Test
    void refusalOfCertificateWhoseSubjectForgesALogLineIsOneEscapedLine() {
        HostileChains.Chain forged = attacker.forgedLeaf("CN=evil\r\nINFO peer.accepted\u001b[2J", List.of(),
                List.of());

        String message = refusal(forged, Reason.BAD_SIGNATURE);

        assertThat(message).contains("CN=evil\\u000d\\u000aINFO peer.accepted\\u001b[2J");
        assertThat(UNSAFE.matcher(message).find()).as(message).isFalse();
    }

    @Test
    void refusalOfCertificateWhoseSpiffeIdForgesALogLineIsOneEscapedLine() {
        HostileChains.Chain forged = attacker.forgedLeaf("CN=evil\r\nINFO x", List.of(),
                List.of("spiffe://example.org/worker\r\nINFO peer.accepted\u001b[2J"));

        String message = refusal(forged, Reason.MALFORMED);

        assertThat(message).contains("CN=evil\\u000d\\u000aINFO x").contains("found '\\u000d'");
        assertThat(UNSAFE.matcher(message).find()).as(message).isFalse();
    }

    @Test
    void refusalOfChainWhoseIssuerNameForgesALogLineIsOneEscapedLine() {
        HostileChains forger = HostileChains.against(attacker.forgedLeaf("CN=Our CA\r\nINFO forged\u2028", List.of(),
                List.of()).certificates().get(0));
        HostileChains.Chain unknownIssuer = forger.forgedLeaf("CN=peer", List.of(), List.of());

        String message = refusal(unknownIssuer, Reason.UNTRUSTED_ISSUER);

        assertThat(message).contains("CN=Our CA\\u000d\\u000aINFO forged\\u2028");
        assertThat(UNSAFE.matcher(message).find()).as(message).isFalse();
    }

    @Test
    void exceptionEscapesWhateverMessageItIsGiven() {
        PeerVerificationException e = new PeerVerificationException(Reason.MALFORMED, "a\r\nb\u001b[2J\u00e9");

        assertThat(e.getMessage()).isEqualTo("a\\u000d\\u000ab\\u001b[2J\\u00e9");
        assertThat(new PeerVerificationException(Reason.MALFORMED, e.getMessage()).getMessage())
                .as("escaping twice changes nothing").isEqualTo(e.getMessage());
    }

    private String refusal(HostileChains.Chain chain, Reason reason) {
        return assertThatThrownBy(() -> verifier.verifyClient(chain.certificates()))
                .isInstanceOf(PeerVerificationException.class)
                .satisfies(e -> assertThat(((PeerVerificationException) e).reason()).as(e.getMessage())
                        .isEqualTo(reason))
                .actual().getMessage();
    }
}
