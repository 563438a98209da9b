package io.settler.zerotrust.spring;

import io.settler.zerotrust.audit.AuditLog;
import io.settler.zerotrust.authz.AuthorizationDecision;
import io.settler.zerotrust.authz.Peer;
import io.settler.zerotrust.authz.PeerAuthorizer;
import io.settler.zerotrust.identity.ServiceIdentity;
import java.net.InetAddress;
import java.security.cert.X509Certificate;
import java.util.Objects;
import java.util.Optional;

/**
 * The policy's source-network conditions, applied to each request. Neither Tomcat nor Reactor
 * Netty tells the TLS handshake the peer's address, so the handshake admits each identity some
 * rule admits from some address ({@link PeerAuthorizer#deferringNetworks()}), and the server
 * decides every request, before any filter or security rule of the application, with the full
 * allow-list and the connection's address: a caller outside its networks gets an empty
 * {@code 403} ({@code spring.request.refused}, reason {@code NETWORK_NOT_ALLOWED}). Inactive when
 * no rule names networks. Immutable and thread-safe.
 */
final class PeerNetworks {

    /** The reason code of a request from outside the caller's networks. */
    static final String NOT_ALLOWED = "NETWORK_NOT_ALLOWED";

    private final PeerAuthorizer accepts;
    private final AuditLog audit;

    PeerNetworks(PeerAuthorizer accepts, AuditLog audit) {
        this.accepts = Objects.requireNonNull(accepts, "accepts");
        this.audit = Objects.requireNonNull(audit, "audit");
    }

    /** Whether the policy's rules for this service name networks, so requests need checking. */
    boolean active() {
        return accepts.checksNetworks();
    }

    /**
     * Why the policy refuses the holder of {@code certificate} connecting from {@code address}
     * (recorded), or empty if it admits it.
     *
     * @param certificate the leaf the handshake verified
     * @param address the connection's remote address, if the server knows it (unknown is refused)
     * @param method the request's method, for the audit event
     * @param path the request's path, for the audit event
     */
    Optional<String> refusal(Optional<X509Certificate> certificate, Optional<InetAddress> address, String method,
                             String path) {
        Optional<ServiceIdentity> identity = certificate.flatMap(TokenAuthenticator::identity);
        if (identity.isPresent() && address.isPresent()) {
            AuthorizationDecision decision = accepts.authorize(Peer.of(identity.get(), address.get()));
            if (decision.allowed()) {
                return Optional.empty();
            }
            return refused(identity.get().toString(), method, path, decision.reason());
        }
        return refused(identity.map(Object::toString).orElse(address.map(InetAddress::getHostAddress)
                .orElse("unknown")), method, path, "the connection's " + (identity.isEmpty()
                ? "certificate proves no SPIFFE identity" : "remote address is unknown")
                + ", so the policy's networks cannot be checked");
    }

    private Optional<String> refused(String peer, String method, String path, String reason) {
        TokenAuthenticator.recordRefusal(audit, peer, method, path, TokenAuthenticator.FORBIDDEN, NOT_ALLOWED, reason);
        return Optional.of(reason);
    }
}
