package io.settler.zerotrust.spring;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.Collections;
import java.util.List;
import org.springframework.http.HttpHeaders;
import org.springframework.security.core.context.SecurityContext;
import org.springframework.security.core.context.SecurityContextHolder;
import org.springframework.security.core.context.SecurityContextHolderStrategy;
import org.springframework.security.web.context.RequestAttributeSecurityContextRepository;
import org.springframework.security.web.context.SecurityContextRepository;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * Authenticates a servlet request by its service token, as {@link TokenAuthenticator} decides: exactly
 * one {@code Authorization: Bearer <token>}, verified by {@code ServiceTokens} with the connection's
 * client certificate (a certificate-bound token only works on the connection of its certificate),
 * whose service (its issuer, whose pinned key signed it) must be the certificate's SPIFFE identity.
 * A request that passes carries a
 * {@link ZeroTrustAuthentication}; one whose token fails is refused here ({@code 401}, or
 * {@code 403} for a token of another certificate or identity) and goes no further. A request
 * without an {@code Authorization} header goes on unauthenticated, for the authorization rules to
 * refuse ({@code 401}) unless the application made its path public, even if a session of the
 * application's own carried an earlier request's authentication.
 */
final class ZeroTrustAuthenticationFilter extends OncePerRequestFilter {

    private final TokenAuthenticator authenticator;
    private final RequestRefusals refusals;
    private final SecurityContextHolderStrategy contexts = SecurityContextHolder.getContextHolderStrategy();
    private final SecurityContextRepository repository = new RequestAttributeSecurityContextRepository();

    ZeroTrustAuthenticationFilter(TokenAuthenticator authenticator, RequestRefusals refusals) {
        this.authenticator = authenticator;
        this.refusals = refusals;
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        List<String> headers = Collections.list(request.getHeaders(HttpHeaders.AUTHORIZATION));
        TokenAuthenticator.Outcome outcome = authenticator.authenticate(headers,
                RequestRefusals.clientCertificate(request), true);
        if (outcome instanceof TokenAuthenticator.Refused refused) {
            refusals.refuse(request, response, refused.status(), refused.reason(), refused.detail());
            return;
        }
        if (!(outcome instanceof TokenAuthenticator.Authenticated authenticated)) {
            if (contexts.getContext().getAuthentication() instanceof ZeroTrustAuthentication) {
                // Not made from this request's token, so loaded from a session (an application chain
                // that turned sessions on): a cookie must never stand in for the token.
                contexts.clearContext();
            }
            chain.doFilter(request, response); // no Authorization: the authorization rules decide
            return;
        }
        SecurityContext context = contexts.createEmptyContext();
        context.setAuthentication(authenticated.authentication());
        contexts.setContext(context);
        repository.saveContext(context, request, response);
        authenticator.authenticated(authenticated.authentication(), request.getMethod(), request.getRequestURI());
        try {
            chain.doFilter(request, response);
        } finally {
            contexts.clearContext();
        }
    }
}
