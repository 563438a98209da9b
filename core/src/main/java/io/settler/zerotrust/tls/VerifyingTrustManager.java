package io.settler.zerotrust.tls;

import io.settler.zerotrust.audit.AuditEvent;
import io.settler.zerotrust.audit.AuditLog;
import io.settler.zerotrust.audit.CoreAudit;
import io.settler.zerotrust.authz.AuthorizationDecision;
import io.settler.zerotrust.authz.Peer;
import io.settler.zerotrust.authz.PeerAuthorizer;
import io.settler.zerotrust.credentials.CertificateFingerprint;
import io.settler.zerotrust.network.IpAddressLiteral;
import io.settler.zerotrust.trust.PeerCertificateVerifier;
import io.settler.zerotrust.trust.PeerName;
import io.settler.zerotrust.trust.PeerVerificationException;
import io.settler.zerotrust.trust.VerifiedPeer;
import java.net.InetAddress;
import java.net.Socket;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.X509ExtendedTrustManager;
import org.jspecify.annotations.Nullable;

/**
 * Verifies the peer in the handshake: PKIX against the current trust bundle (through
 * {@link PeerCertificateVerifier}), then the expected server name or, for clients of a server, the
 * {@link PeerAuthorizer}; every decision leaves an audit event.
 *
 * <p>It also invalidates the sessions it verifies (all of a client's, a server's TLS 1.3 ones), so
 * that the JDK issues and keeps no ticket or session for them: a resumed handshake would skip this
 * class (see {@link SessionResumption}).
 */
final class VerifyingTrustManager extends X509ExtendedTrustManager {

    /** How a client decides which name its server must prove. */
    interface ServerNameSource {
        /** The expected name for a connection to {@code peerHost} (which may be null when unknown). */
        Optional<PeerName> expectedFor(@Nullable String peerHost);
    }

    private final Supplier<PeerCertificateVerifier> verifier;
    private final Optional<PeerAuthorizer> clientAuthorizer;
    private final ServerNameSource serverNames;
    private final AuditLog audit;

    private VerifyingTrustManager(Supplier<PeerCertificateVerifier> verifier, Optional<PeerAuthorizer> clientAuthorizer,
                                  ServerNameSource serverNames, AuditLog audit) {
        this.verifier = verifier;
        this.clientAuthorizer = clientAuthorizer;
        this.serverNames = serverNames;
        this.audit = audit;
    }

    /** For a server: verifies clients and authorizes them. */
    static VerifyingTrustManager forServer(Supplier<PeerCertificateVerifier> verifier, PeerAuthorizer authorizer,
                                           AuditLog audit) {
        return new VerifyingTrustManager(verifier, Optional.of(authorizer), host -> Optional.empty(), audit);
    }

    /** For a client: verifies servers against the expected name. */
    static VerifyingTrustManager forClient(Supplier<PeerCertificateVerifier> verifier, ServerNameSource serverNames,
                                           AuditLog audit) {
        return new VerifyingTrustManager(verifier, Optional.empty(), serverNames, audit);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, @Nullable Socket socket)
            throws CertificateException {
        neverResumable(socket);
        checkClient(chain, remoteAddress(socket));
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, @Nullable SSLEngine engine)
            throws CertificateException {
        neverResumable(engine);
        checkClient(chain, remoteAddress(engine == null ? null : engine.getPeerHost()));
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        checkClient(chain, Optional.empty());
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, @Nullable Socket socket)
            throws CertificateException {
        neverResumable(socket);
        checkServer(chain, peerHost(socket), remoteAddress(socket));
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, @Nullable SSLEngine engine)
            throws CertificateException {
        neverResumable(engine);
        String host = engine == null ? null : engine.getPeerHost();
        checkServer(chain, host, remoteAddress(host));
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        checkServer(chain, null, Optional.empty());
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
        // Empty on purpose: a CertificateRequest listing our anchors would tell anyone who connects
        // which CAs we trust, and clients holding one credential do not need the hint.
        return new X509Certificate[0];
    }

    private void checkClient(X509Certificate[] chain, Optional<InetAddress> remote) throws CertificateException {
        PeerAuthorizer authorizer = clientAuthorizer.orElseThrow(
                () -> new CertificateException("this context verifies servers, not clients"));
        VerifiedPeer peer = verify(chain, remote, "client", presented -> verifier.get().verifyClient(presented));
        AuthorizationDecision decision = authorizer.authorize(new Peer(peer.identity(), remote));
        if (!decision.allowed()) {
            refuse("client", chain, Optional.of(peer), remote, "NOT_AUTHORIZED", decision.reason());
            throw new PeerVerificationException(PeerVerificationException.Reason.NOT_AUTHORIZED,
                    decision.reason() + "; add the identity to the server's allow-list if it should connect");
        }
        accept("client", peer, remote, decision.matchedRule().orElseThrow());
    }

    private void checkServer(X509Certificate[] chain, @Nullable String peerHost, Optional<InetAddress> remote)
            throws CertificateException {
        Optional<PeerName> expected = expectedServer(peerHost);
        if (expected.isEmpty()) {
            refuse("server", chain, Optional.empty(), remote, "NAME_MISMATCH", NO_EXPECTED_NAME);
            throw new PeerVerificationException(PeerVerificationException.Reason.NAME_MISMATCH, NO_EXPECTED_NAME);
        }
        PeerName name = expected.get();
        VerifiedPeer peer = verify(chain, remote, "server", presented -> verifier.get().verifyServer(presented, name));
        accept("server", peer, remote, "expected-server=" + name);
    }

    private static final String NO_EXPECTED_NAME =
            "no expected server name: connect by host name or configure the expected server identity";

    private Optional<PeerName> expectedServer(@Nullable String peerHost) {
        try {
            return serverNames.expectedFor(peerHost);
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    /**
     * Verifies the chain of a peer connected earlier as a new handshake would now: PKIX against the
     * current trust bundle, then (clients) the expected server name. No authorization and no audit
     * event: the caller decides what a refusal means for its connection and records that.
     *
     * @param chain the peer's chain as its handshake presented it
     * @param peerHost the host a client connected to (null when unknown)
     */
    VerifiedPeer verifyAgain(List<X509Certificate> chain, String peerHost) throws PeerVerificationException {
        if (clientAuthorizer.isPresent()) {
            return verifier.get().verifyClient(chain);
        }
        PeerName name = expectedServer(peerHost).orElseThrow(() -> new PeerVerificationException(
                PeerVerificationException.Reason.NAME_MISMATCH, NO_EXPECTED_NAME));
        return verifier.get().verifyServer(chain, name);
    }

    @FunctionalInterface
    private interface Verification {
        VerifiedPeer verify(List<X509Certificate> presented) throws PeerVerificationException;
    }

    private VerifiedPeer verify(X509Certificate[] chain, Optional<InetAddress> remote, String role,
                                Verification verification) throws CertificateException {
        if (chain == null || chain.length == 0) {
            refuse(role, chain, Optional.empty(), remote, "NO_CERTIFICATE", "the peer presented no certificate");
            throw new CertificateException("the " + role + " presented no certificate");
        }
        try {
            return verification.verify(List.of(chain));
        } catch (PeerVerificationException e) {
            refuse(role, chain, Optional.empty(), remote, e.reason().name(), e.getMessage());
            throw e;
        }
    }

    private void accept(String role, VerifiedPeer peer, Optional<InetAddress> remote, String rule) {
        audit.event(CoreAudit.PEER_ACCEPTED)
                .field("role", role)
                .field("identity", peer.identity().map(Object::toString).orElse("none"))
                .field("fingerprint", peer.sha256Fingerprint())
                .field("remote", remote.map(InetAddress::getHostAddress).orElse("unknown"))
                .field("rule", rule)
                .record();
    }

    /**
     * Records a refusal. {@code verified} is the peer when its chain has verified against the trust
     * bundle (the authorizer refused it): the event then names its identity and is marked
     * {@link AuditEvent#authenticatedPeer()}, so that no flood of unauthenticated refusals can keep
     * a rate-limited audit log from recording it.
     */
    private void refuse(String role, X509Certificate[] chain, Optional<VerifiedPeer> verified,
                        Optional<InetAddress> remote, String reason, @Nullable String detail) {
        AuditLog.Entry event = audit.event(CoreAudit.PEER_REFUSED).field("role", role);
        verified.ifPresent(peer -> event.authenticatedPeer()
                .field("identity", peer.identity().map(Object::toString).orElse("none")));
        event
                .field("fingerprint", chain == null || chain.length == 0 ? "none" : fingerprint(chain[0]))
                .field("remote", remote.map(InetAddress::getHostAddress).orElse("unknown"))
                .field("reason", reason)
                .field("detail", detail)
                .record();
    }

    private static String fingerprint(X509Certificate certificate) {
        try {
            return CertificateFingerprint.sha256(certificate);
        } catch (IllegalArgumentException e) {
            return "unavailable";
        }
    }

    private void neverResumable(@Nullable Socket socket) {
        if (socket instanceof SSLSocket ssl) {
            SessionResumption.neverResumable(ssl.getHandshakeSession(), clientAuthorizer.isEmpty());
        }
    }

    private void neverResumable(@Nullable SSLEngine engine) {
        if (engine != null) {
            SessionResumption.neverResumable(engine.getHandshakeSession(), clientAuthorizer.isEmpty());
        }
    }

    private static @Nullable String peerHost(@Nullable Socket socket) {
        if (socket instanceof SSLSocket ssl) {
            SSLSession session = ssl.getHandshakeSession();
            if (session != null && session.getPeerHost() != null) {
                return session.getPeerHost();
            }
        }
        return null;
    }

    private static Optional<InetAddress> remoteAddress(@Nullable Socket socket) {
        return socket == null ? Optional.empty() : Optional.ofNullable(socket.getInetAddress());
    }

    private static Optional<InetAddress> remoteAddress(@Nullable String peerHost) {
        if (peerHost == null) {
            return Optional.empty();
        }
        try {
            return Optional.of(IpAddressLiteral.parse(peerHost));
        } catch (IllegalArgumentException notALiteral) {
            return Optional.empty();
        }
    }
}
