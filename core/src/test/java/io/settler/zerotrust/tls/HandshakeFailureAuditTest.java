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
import io.settler.zerotrust.trust.PeerVerificationException;
import java.net.InetAddress;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@link MtlsContext#recordHandshakeFailure}: the audit hook for TLS stacks other than JDK sockets
 * (Netty with the JDK or the OpenSSL provider), whose refusals before our checks must be audited too.
 */
class HandshakeFailureAuditTest {

    private static final DevCertificateAuthority CA = DevCertificateAuthority.create("example.org");
    private static final IssuedCertificate SERVER = CA.leaf("api").serverAndClient().dnsNames("localhost").issue();

    private final List<AuditEvent> audit = new CopyOnWriteArrayList<>();
    private final MtlsContext server = MtlsContext.server(
                    CredentialSource.fixed(TlsIdentity.of(SERVER.privateKey(), SERVER.chain()),
                            TrustBundle.of(List.of(CA.rootCertificate()))),
                    PeerAuthorizer.builder().allowIdentities("spiffe://example.org/worker").build())
            .auditLog(CoreTestAudit.into(audit)).build();

    private List<AuditEvent> refusals() {
        return audit.stream().filter(event -> event.action().equals("peer.refused")).toList();
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "Empty client certificate chain | NO_CERTIFICATE",
            "error:10000416:SSL routines:OPENSSL_internal:PEER_DID_NOT_RETURN_A_CERTIFICATE | NO_CERTIFICATE",
            "error:100000f0:SSL routines:OPENSSL_internal:UNSUPPORTED_PROTOCOL | PROTOCOL_VERSION",
            "error:1000042e:SSL routines:OPENSSL_internal:TLSV1_ALERT_PROTOCOL_VERSION | PROTOCOL_VERSION",
            "error:100000b8:SSL routines:OPENSSL_internal:NO_SHARED_CIPHER | NO_COMMON_CIPHER_SUITE",
            "error:1000009c:SSL routines:OPENSSL_internal:HTTP_REQUEST | NOT_TLS",
            "something else entirely | HANDSHAKE_FAILED"})
    void namesTheRefusalOfJdkAndBoringSsl(String message, String reason) {
        assertThat(server.recordHandshakeFailure(new SSLHandshakeException(message),
                Optional.of(InetAddress.getLoopbackAddress()))).isTrue();
        assertThat(refusals()).singleElement().satisfies(event -> {
            assertThat(event.action()).isEqualTo("peer.refused");
            assertThat(event.outcome()).isEqualTo(AuditEvent.Outcome.REFUSED);
            assertThat(event.fields()).containsEntry("reason", reason).containsEntry("remote", "127.0.0.1")
                    .containsEntry("role", "client");
        });
    }

    @Test
    void doesNotAuditOurOwnRefusalTwice() {
        SSLHandshakeException wrapped = new SSLHandshakeException("certificate_unknown");
        wrapped.initCause(new PeerVerificationException(PeerVerificationException.Reason.NOT_AUTHORIZED,
                "not allowed"));
        assertThat(server.recordHandshakeFailure(wrapped, Optional.empty())).isFalse();
        assertThat(refusals()).isEmpty();
    }
}
