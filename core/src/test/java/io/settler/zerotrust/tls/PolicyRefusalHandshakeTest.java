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
import io.settler.zerotrust.trust.PeerVerificationException.Reason;
import io.settler.zerotrust.trust.PolicyChains;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A client whose CA requires an explicit certificate policy and constrains DNS names presents a
 * certificate without any policy: the server refuses it and audits the refusal, whether or not the
 * client certificate's CN looks like a DNS name (the JDK reads it as one; see
 * {@code PolicyAcrossReanchorTest} for the verifier's verdicts).
 */
class PolicyRefusalHandshakeTest {

    private static final DevCertificateAuthority SERVER_CA = DevCertificateAuthority.create("example.org");
    private static final IssuedCertificate SERVER = SERVER_CA.leaf("server").serverAndClient()
            .dnsNames("localhost").issue();

    private final PolicyChains chains = new PolicyChains();
    private final List<AuditEvent> audit = new CopyOnWriteArrayList<>();

    @ParameterizedTest
    @ValueSource(strings = {"api server", "evil.example.net"})
    void clientCertificateWithoutTheRequiredPolicyIsRefusedAndAuditedWhateverItsCommonName(String cn)
            throws Exception {
        PolicyChains.Chain client = chains.line(cn, List.of(ca -> {
            PolicyChains.requireExplicitPolicy(ca, 0, null);
            PolicyChains.policies(ca, PolicyChains.anyPolicy());
            PolicyChains.nameConstraints(ca);
        }), Optional.empty());
        MtlsContext server = MtlsContext.server(
                        CredentialSource.fixed(TlsIdentity.of(SERVER.privateKey(), SERVER.chain()),
                                TrustBundle.of(List.of(chains.root()))),
                        PeerAuthorizer.builder().allowIdentities("spiffe://example.org/api").build())
                .auditLog(CoreTestAudit.into(audit)).build();
        MtlsContext clientContext = MtlsContext.client(CredentialSource.fixed(
                TlsIdentity.of(client.leafKey(), client.certificates()),
                TrustBundle.of(List.of(SERVER_CA.rootCertificate())))).build();

        Loopback.Outcome outcome = Loopback.exchange(server, clientContext.socketFactory(), "localhost");

        assertThat(outcome.succeeded()).as("the exchange must fail").isFalse();
        assertThat(outcome.server()).as("the server must refuse").isPresent();
        assertThat(audit).filteredOn(e -> e.action().equals("peer.refused")).singleElement()
                .satisfies(e -> assertThat(e.fields()).containsEntry("reason", Reason.POLICY.name()));
    }
}
