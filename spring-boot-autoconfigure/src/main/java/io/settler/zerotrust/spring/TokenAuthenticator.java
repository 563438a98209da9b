package io.settler.zerotrust.spring;

import io.settler.zerotrust.audit.AuditLog;
import io.settler.zerotrust.identity.CertificateIdentityException;
import io.settler.zerotrust.identity.ServiceIdentity;
import io.settler.zerotrust.token.BearerToken;
import io.settler.zerotrust.token.ServiceTokens;
import io.settler.zerotrust.token.TokenRejectedException;
import io.settler.zerotrust.token.VerifiedToken;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.Nullable;

/**
 * The decision on a request's service token, for the servlet filter and the WebFlux filter alike:
 * exactly one {@code Authorization: Bearer <token>}, verified by {@link ServiceTokens} with the
 * connection's client certificate (a certificate-bound token only works on the connection of its
 * certificate), whose service must be the certificate's SPIFFE identity. Also the audit of each
 * decision ({@link SpringAudit#REQUEST_AUTHENTICATED}, {@link SpringAudit#REQUEST_REFUSED}). Knows
 * no servlet or reactive type.
 */
final class TokenAuthenticator {

    /** The status of a request without an acceptable token. */
    static final int UNAUTHORIZED = 401;
    /** The status of a token of another identity or certificate, or of insufficient authorities. */
    static final int FORBIDDEN = 403;

    /** How many peer certificates' identities {@link #identities} holds before it is emptied. */
    private static final int REMEMBERED_PEERS = 1_024;

    private final ServiceTokens verifier;
    private final AuditLog audit;
    /**
     * The identities of recent peers' certificates, which the server hands over on every request of
     * a connection: parsing the SAN each time was a measurable part of a request. Holds only
     * certificates the handshake verified and the policy admitted.
     */
    private final Map<X509Certificate, Optional<ServiceIdentity>> identities = new ConcurrentHashMap<>();

    /** Checks tokens with {@code verifier} and audits to {@code audit}. */
    TokenAuthenticator(ServiceTokens verifier, AuditLog audit) {
        this.verifier = Objects.requireNonNull(verifier, "verifier");
        this.audit = Objects.requireNonNull(audit, "audit");
    }

    /** What became of a request's {@code Authorization}. */
    sealed interface Outcome {
    }

    /** No {@code Authorization} header: the request goes on unauthenticated, for the rules to decide. */
    record NoToken() implements Outcome {
    }

    /** A valid token of the connection's own identity. */
    record Authenticated(ZeroTrustAuthentication authentication) implements Outcome {
    }

    /** Refused: {@code status} 401 or 403, the reason, and the detail for the audit log only. */
    record Refused(int status, String reason, String detail) implements Outcome {
    }

    /**
     * Only a verification that may wait can decide (a key being fetched, a replay guard that may
     * block): decide again with {@code mayWait} on a thread that may block. Nothing was recorded.
     */
    record MustWait() implements Outcome {
    }

    /**
     * Decides on a request with these {@code Authorization} headers over a connection whose client
     * presented {@code certificate}. With {@code mayWait} false, never blocks (tokens are verified
     * with {@link ServiceTokens#verifyWithoutWaiting}) and may answer {@link MustWait}.
     */
    Outcome authenticate(List<String> authorizations, Optional<X509Certificate> certificate, boolean mayWait) {
        if (authorizations.isEmpty()) {
            return new NoToken();
        }
        String token = authorizations.size() == 1 ? BearerToken.fromAuthorization(authorizations.get(0)).orElse(null)
                : null;
        if (token == null) {
            return new Refused(UNAUTHORIZED, "MALFORMED_AUTHORIZATION",
                    authorizations.size() + " Authorization header(s); expected exactly one 'Bearer <token>'");
        }
        if (certificate.isEmpty()) {
            return new Refused(UNAUTHORIZED, "NO_CLIENT_CERTIFICATE",
                    "the connection carries no client certificate, so no token can be checked against it");
        }
        VerifiedToken verified;
        try {
            if (mayWait) {
                verified = verifier.verify(token, certificate.get());
            } else {
                Optional<VerifiedToken> decided = verifier.verifyWithoutWaiting(token, certificate.get());
                if (decided.isEmpty()) {
                    return new MustWait();
                }
                verified = decided.get();
            }
        } catch (TokenRejectedException e) {
            int status = e.reason() == TokenRejectedException.Reason.CERTIFICATE_MISMATCH ? FORBIDDEN : UNAUTHORIZED;
            return new Refused(status, e.reason().name(), Objects.requireNonNullElse(e.getMessage(), ""));
        }
        Optional<ServiceIdentity> peer = rememberedIdentity(certificate.get());
        if (peer.isEmpty() || !peer.get().equals(verified.service())) {
            return new Refused(FORBIDDEN, "IDENTITY_MISMATCH",
                    "the token was minted by " + verified.service() + " but the connection's certificate proves "
                            + peer.map(Object::toString).orElse("no SPIFFE identity"));
        }
        return new Authenticated(new ZeroTrustAuthentication(verified));
    }

    /** Records a request that was authenticated (DEBUG: only when the audit log records it). */
    void authenticated(ZeroTrustAuthentication caller, String method, String path) {
        if (audit.records(SpringAudit.REQUEST_AUTHENTICATED)) {
            audit.event(SpringAudit.REQUEST_AUTHENTICATED)
                    .field("peer", caller.getPrincipal())
                    .field("method", method)
                    .field("path", path)
                    .field("scopes", String.join(" ", caller.token().scopes()))
                    .record();
        }
    }

    /** Records a refusal: who ({@code peer}), what, the status, the reason and the detail for operators. */
    void refused(String peer, String method, String path, int status, String reason, @Nullable String detail) {
        recordRefusal(audit, peer, method, path, status, reason, detail);
    }

    /** {@link #refused}, to {@code audit}: every refusal of a request is recorded this way. */
    static void recordRefusal(AuditLog audit, String peer, String method, String path, int status, String reason,
                              @Nullable String detail) {
        audit.event(SpringAudit.REQUEST_REFUSED)
                .field("peer", peer)
                .field("method", method)
                .field("path", path)
                .field("status", status)
                .field("reason", reason)
                .field("detail", detail)
                .record();
    }

    private Optional<ServiceIdentity> rememberedIdentity(X509Certificate certificate) {
        Optional<ServiceIdentity> known = identities.get(certificate);
        if (known != null) {
            return known;
        }
        if (identities.size() >= REMEMBERED_PEERS) {
            identities.clear();
        }
        Optional<ServiceIdentity> identity = identity(certificate);
        identities.put(certificate, identity);
        return identity;
    }

    /** The SPIFFE identity of a certificate the handshake verified, if it has one. */
    static Optional<ServiceIdentity> identity(X509Certificate certificate) {
        try {
            return ServiceIdentity.fromCertificate(certificate);
        } catch (CertificateIdentityException e) {
            return Optional.empty(); // the handshake would have refused it; the address names the peer then
        }
    }

    /** The peer named in the audit log: the certificate's SPIFFE identity, else {@code address}. */
    static String peer(Optional<X509Certificate> certificate, String address) {
        return certificate.flatMap(TokenAuthenticator::identity).map(Object::toString).orElse(address);
    }
}
