package io.settler.zerotrust.spring;

import io.settler.zerotrust.token.BearerToken;
import java.net.InetSocketAddress;
import java.security.cert.X509Certificate;
import java.util.Optional;
import org.jspecify.annotations.Nullable;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.server.reactive.ServerHttpRequest;
import org.springframework.http.server.reactive.ServerHttpResponse;
import org.springframework.http.server.reactive.SslInfo;
import org.springframework.security.access.AccessDeniedException;
import org.springframework.security.core.AuthenticationException;
import org.springframework.security.web.server.ServerAuthenticationEntryPoint;
import org.springframework.security.web.server.authorization.ServerAccessDeniedHandler;
import org.springframework.web.server.ServerWebExchange;
import reactor.core.publisher.Mono;

/**
 * Every refusal of a WebFlux exchange, as {@link RequestRefusals} for servlets: the status with an
 * empty body ({@code 401} with {@code WWW-Authenticate: Bearer}, or {@code 403}) and one
 * {@link SpringAudit#REQUEST_REFUSED} event holding the detail for operators. Also Spring
 * Security's entry point and access-denied handler of the reactive chain.
 */
final class ReactiveRequestRefusals implements ServerAuthenticationEntryPoint, ServerAccessDeniedHandler {

    private final TokenAuthenticator authenticator;

    ReactiveRequestRefusals(TokenAuthenticator authenticator) {
        this.authenticator = authenticator;
    }

    /** Refuses and records: {@code status} 401 or 403, the reason, and the detail for the log only. */
    Mono<Void> refuse(ServerWebExchange exchange, int status, String reason, @Nullable String detail) {
        ServerHttpRequest request = exchange.getRequest();
        authenticator.refused(TokenAuthenticator.peer(clientCertificate(request), address(request)),
                request.getMethod().name(), request.getURI().getRawPath(), status, reason, detail);
        ServerHttpResponse response = exchange.getResponse();
        response.setStatusCode(HttpStatusCode.valueOf(status));
        if (status == TokenAuthenticator.UNAUTHORIZED) {
            response.getHeaders().set(HttpHeaders.WWW_AUTHENTICATE, BearerToken.SCHEME);
        }
        response.getHeaders().setContentLength(0);
        return response.setComplete();
    }

    /** No acceptable token on an exchange that needs one. */
    @Override
    public Mono<Void> commence(ServerWebExchange exchange, AuthenticationException authException) {
        boolean sent = exchange.getRequest().getHeaders().getFirst(HttpHeaders.AUTHORIZATION) != null;
        return refuse(exchange, TokenAuthenticator.UNAUTHORIZED, sent ? "UNAUTHENTICATED" : "MISSING_TOKEN",
                sent ? authException.getMessage()
                        : "no Authorization header; send 'Authorization: Bearer <service token>'");
    }

    /** An authorization rule ({@code hasAuthority('SCOPE_...')}) refused the caller. */
    @Override
    public Mono<Void> handle(ServerWebExchange exchange, AccessDeniedException denied) {
        return refuse(exchange, TokenAuthenticator.FORBIDDEN, "ACCESS_DENIED",
                "an authorization rule refused the caller's authorities: " + denied.getMessage());
    }

    /** The leaf of the connection's verified client certificate chain. */
    static Optional<X509Certificate> clientCertificate(ServerHttpRequest request) {
        SslInfo ssl = request.getSslInfo();
        X509Certificate[] chain = ssl == null ? null : ssl.getPeerCertificates();
        return chain == null || chain.length == 0 ? Optional.empty() : Optional.of(chain[0]);
    }

    private static String address(ServerHttpRequest request) {
        InetSocketAddress remote = request.getRemoteAddress();
        return remote == null ? "unknown" : remote.getAddress() == null ? remote.getHostString()
                : remote.getAddress().getHostAddress();
    }
}
