package io.settler.zerotrust.spring;

import io.settler.zerotrust.token.BearerToken;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.security.cert.X509Certificate;
import java.util.Optional;
import org.jspecify.annotations.Nullable;
import org.springframework.http.HttpHeaders;
import org.springframework.security.access.AccessDeniedException;
import org.springframework.security.core.AuthenticationException;
import org.springframework.security.web.AuthenticationEntryPoint;
import org.springframework.security.web.access.AccessDeniedHandler;

/**
 * Every refusal of a request: the status with an empty body ({@code 401} with
 * {@code WWW-Authenticate: Bearer}, or {@code 403}), never a detail a caller could probe with, and
 * one {@link SpringAudit#REQUEST_REFUSED} event that holds the detail for operators. Also Spring
 * Security's entry point (no acceptable token where one is required) and access-denied handler
 * (an authorization rule refused the authenticated caller).
 */
final class RequestRefusals implements AuthenticationEntryPoint, AccessDeniedHandler {

    /** The attribute the servlet container puts the verified client certificate chain in. */
    static final String CERTIFICATES = "jakarta.servlet.request.X509Certificate";

    private final TokenAuthenticator authenticator;

    RequestRefusals(TokenAuthenticator authenticator) {
        this.authenticator = authenticator;
    }

    /** Refuses and records: {@code status} 401 or 403, the reason, and the detail for the log only. */
    void refuse(HttpServletRequest request, HttpServletResponse response, int status, String reason,
                @Nullable String detail) {
        authenticator.refused(TokenAuthenticator.peer(clientCertificate(request), request.getRemoteAddr()),
                request.getMethod(), request.getRequestURI(), status, reason, detail);
        response.resetBuffer();
        response.setStatus(status);
        if (status == HttpServletResponse.SC_UNAUTHORIZED) {
            response.setHeader(HttpHeaders.WWW_AUTHENTICATE, BearerToken.SCHEME);
        }
        response.setContentLength(0);
    }

    /** No acceptable token on a request that needs one. */
    @Override
    public void commence(HttpServletRequest request, HttpServletResponse response,
                         AuthenticationException authException) {
        boolean sent = request.getHeader(HttpHeaders.AUTHORIZATION) != null;
        refuse(request, response, HttpServletResponse.SC_UNAUTHORIZED, sent ? "UNAUTHENTICATED" : "MISSING_TOKEN",
                sent ? authException.getMessage()
                        : "no Authorization header; send 'Authorization: Bearer <service token>'");
    }

    /** An authorization rule ({@code hasAuthority('SCOPE_...')}, {@code @PreAuthorize}) refused the caller. */
    @Override
    public void handle(HttpServletRequest request, HttpServletResponse response,
                       AccessDeniedException accessDeniedException) {
        refuse(request, response, HttpServletResponse.SC_FORBIDDEN, "ACCESS_DENIED",
                "an authorization rule refused the caller's authorities: " + accessDeniedException.getMessage());
    }

    /** The leaf of the connection's verified client certificate chain. */
    static Optional<X509Certificate> clientCertificate(HttpServletRequest request) {
        if (request.getAttribute(CERTIFICATES) instanceof X509Certificate[] chain && chain.length > 0) {
            return Optional.of(chain[0]);
        }
        return Optional.empty();
    }
}
