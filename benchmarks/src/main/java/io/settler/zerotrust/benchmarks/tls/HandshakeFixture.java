package io.settler.zerotrust.benchmarks.tls;

import io.settler.zerotrust.audit.AuditLog;
import io.settler.zerotrust.authz.PeerAuthorizer;
import io.settler.zerotrust.credentials.CredentialSource;
import io.settler.zerotrust.credentials.TlsIdentity;
import io.settler.zerotrust.credentials.TrustBundle;
import io.settler.zerotrust.pki.DevCertificateAuthority;
import io.settler.zerotrust.pki.IssuedCertificate;
import io.settler.zerotrust.tls.MtlsContext;
import java.util.List;

/**
 * What the handshake benchmarks share: a server {@code api} (host {@code localhost}) that admits only
 * the client {@code worker}, both issued by one development CA, and a peer port that changes per
 * handshake. Not thread-safe: one per JMH state.
 */
final class HandshakeFixture {

    /** The server's certificate, for {@code localhost}. */
    final IssuedCertificate server;
    /** The client's certificate, {@code spiffe://example.org/worker}. */
    final IssuedCertificate client;
    /** The CA both chain to. */
    final DevCertificateAuthority ca;
    private final CredentialSource serverCredentials;
    private final CredentialSource clientCredentials;
    private final PeerAuthorizer workers = PeerAuthorizer.builder()
            .allowIdentities("spiffe://example.org/worker").build();
    private int port = 1;

    HandshakeFixture() {
        ca = DevCertificateAuthority.create("example.org");
        server = ca.leaf("api").dnsNames("localhost").issue();
        client = ca.leaf("worker").issue();
        TrustBundle trust = TrustBundle.of(List.of(ca.rootCertificate()));
        serverCredentials = CredentialSource.fixed(TlsIdentity.of(server.privateKey(), server.chain()), trust);
        clientCredentials = CredentialSource.fixed(TlsIdentity.of(client.privateKey(), client.chain()), trust);
    }

    /** The server's context, admitting {@code worker}, auditing to {@code audit}. */
    MtlsContext server(AuditLog audit) {
        return MtlsContext.server(serverCredentials, workers).auditLog(audit).build();
    }

    /** The client's context, auditing to {@code audit}. */
    MtlsContext client(AuditLog audit) {
        return MtlsContext.client(clientCredentials).auditLog(audit).build();
    }

    /** A new peer port for every handshake: client session caches are keyed by host and port, so nothing resumes. */
    int nextPort() {
        port = port == 65535 ? 1 : port + 1;
        return port;
    }
}
