package io.settler.zerotrust.spring;

import io.settler.zerotrust.audit.AuditLog;
import io.settler.zerotrust.identity.ServiceIdentity;
import io.settler.zerotrust.token.BearerToken;
import io.settler.zerotrust.token.ServiceTokens;
import io.settler.zerotrust.token.TokenRejectedException;
import io.settler.zerotrust.token.VerifiedToken;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.security.cert.X509Certificate;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.springframework.http.HttpHeaders;
import org.springframework.security.core.context.SecurityContext;
import org.springframework.security.core.context.SecurityContextHolder;
import org.springframework.security.core.context.SecurityContextHolderStrategy;
import org.springframework.security.web.context.RequestAttributeSecurityContextRepository;
import org.springframework.security.web.context.SecurityContextRepository;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * Authenticates a request by its service token: exactly one {@code Authorization: Bearer <token>},
 * verified by {@link ServiceTokens} with the connection's client certificate (a certificate-bound
 * token only works on the connection of its certificate), whose service (its issuer, whose pinned
 * key signed it) must be the certificate's SPIFFE identity. A request that passes carries a
 * {@link ZeroTrustAuthentication}; one whose token fails is refused here ({@code 401}, or
 * {@code 403} for a token of another certificate or identity) and goes no further. A request
 * without an {@code Authorization} header goes on unauthenticated, for the authorization rules to
 * refuse ({@code 401}) unless the application made its path public, even if a session of the
 * application's own carried an earlier request's authentication.
 */
final class ZeroTrustAuthenticationFilter extends OncePerRequestFilter {

    private static final int REMEMBERED_PEERS = 1_024;

    private final ServiceTokens verifier;
    private final RequestRefusals refusals;
    private final AuditLog audit;
    private final SecurityContextHolderStrategy contexts = SecurityContextHolder.getContextHolderStrategy();
    private final SecurityContextRepository repository = new RequestAttributeSecurityContextRepository();
    /**
     * The identities of recent peers' certificates, which Tomcat hands over on every request of a
     * connection: parsing the SAN each time was a measurable part of a request. Holds only
     * certificates the handshake verified and the policy admitted; emptied when it reaches
     * {@link #REMEMBERED_PEERS}.
     */
    private final Map<X509Certificate, Optional<ServiceIdentity>> identities = new ConcurrentHashMap<>();

    ZeroTrustAuthenticationFilter(ServiceTokens verifier, RequestRefusals refusals, AuditLog audit) {
        this.verifier = verifier;
        this.refusals = refusals;
        this.audit = audit;
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        List<String> headers = Collections.list(request.getHeaders(HttpHeaders.AUTHORIZATION));
        if (headers.isEmpty()) {
            if (contexts.getContext().getAuthentication() instanceof ZeroTrustAuthentication) {
                // Not made from this request's token, so loaded from a session (an application chain
                // that turned sessions on): a cookie must never stand in for the token.
                contexts.clearContext();
            }
            chain.doFilter(request, response);
            return;
        }
        String token = headers.size() == 1 ? BearerToken.fromAuthorization(headers.get(0)).orElse(null) : null;
        if (token == null) {
            refusals.refuse(request, response, HttpServletResponse.SC_UNAUTHORIZED, "MALFORMED_AUTHORIZATION",
                    headers.size() + " Authorization header(s); expected exactly one 'Bearer <token>'");
            return;
        }
        Optional<X509Certificate> certificate = RequestRefusals.clientCertificate(request);
        if (certificate.isEmpty()) {
            refusals.refuse(request, response, HttpServletResponse.SC_UNAUTHORIZED, "NO_CLIENT_CERTIFICATE",
                    "the connection carries no client certificate, so no token can be checked against it");
            return;
        }
        VerifiedToken verified;
        try {
            verified = verifier.verify(token, certificate.get());
        } catch (TokenRejectedException e) {
            int status = e.reason() == TokenRejectedException.Reason.CERTIFICATE_MISMATCH
                    ? HttpServletResponse.SC_FORBIDDEN : HttpServletResponse.SC_UNAUTHORIZED;
            refusals.refuse(request, response, status, e.reason().name(), e.getMessage());
            return;
        }
        Optional<ServiceIdentity> peer = identity(certificate.get());
        if (peer.isEmpty() || !peer.get().equals(verified.service())) {
            refusals.refuse(request, response, HttpServletResponse.SC_FORBIDDEN, "IDENTITY_MISMATCH",
                    "the token was minted by " + verified.service() + " but the connection's certificate proves "
                            + peer.map(Object::toString).orElse("no SPIFFE identity"));
            return;
        }
        SecurityContext context = contexts.createEmptyContext();
        context.setAuthentication(new ZeroTrustAuthentication(verified));
        contexts.setContext(context);
        repository.saveContext(context, request, response);
        if (audit.records(SpringAudit.REQUEST_AUTHENTICATED)) {
            audit.event(SpringAudit.REQUEST_AUTHENTICATED)
                    .field("peer", verified.service())
                    .field("method", request.getMethod())
                    .field("path", request.getRequestURI())
                    .field("scopes", String.join(" ", verified.scopes()))
                    .record();
        }
        try {
            chain.doFilter(request, response);
        } finally {
            contexts.clearContext();
        }
    }

    private Optional<ServiceIdentity> identity(X509Certificate certificate) {
        Optional<ServiceIdentity> known = identities.get(certificate);
        if (known != null) {
            return known;
        }
        if (identities.size() >= REMEMBERED_PEERS) {
            identities.clear();
        }
        Optional<ServiceIdentity> identity = RequestRefusals.identity(certificate);
        identities.put(certificate, identity);
        return identity;
    }
}
