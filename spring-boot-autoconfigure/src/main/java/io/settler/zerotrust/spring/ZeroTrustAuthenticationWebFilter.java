package io.settler.zerotrust.spring;

import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Optional;
import org.springframework.http.HttpHeaders;
import org.springframework.http.server.reactive.ServerHttpRequest;
import org.springframework.security.core.context.ReactiveSecurityContextHolder;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.WebFilter;
import org.springframework.web.server.WebFilterChain;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * Authenticates a WebFlux exchange by its service token, as {@link TokenAuthenticator} decides (the
 * servlet filter's decision): exactly one {@code Authorization: Bearer <token>}, verified with the
 * connection's client certificate ({@code ServerHttpRequest.getSslInfo()}), whose service must be
 * the certificate's SPIFFE identity. An exchange that passes runs with a
 * {@link ZeroTrustAuthentication} in its reactive security context; one whose token fails is
 * refused here ({@code 401}, or {@code 403} for a token of another certificate or identity). An
 * exchange without an {@code Authorization} header goes on unauthenticated, for the authorization
 * rules to refuse ({@code 401}) unless the application made its path public.
 *
 * <p>The event loop never waits for a token: it is verified without waiting, and only a token
 * whose key is being fetched, or that only a replay guard that may block has left to check, is
 * verified again on Reactor's bounded elastic scheduler.
 */
final class ZeroTrustAuthenticationWebFilter implements WebFilter {

    private final TokenAuthenticator authenticator;
    private final ReactiveRequestRefusals refusals;

    ZeroTrustAuthenticationWebFilter(TokenAuthenticator authenticator, ReactiveRequestRefusals refusals) {
        this.authenticator = authenticator;
        this.refusals = refusals;
    }

    @Override
    public Mono<Void> filter(ServerWebExchange exchange, WebFilterChain chain) {
        ServerHttpRequest request = exchange.getRequest();
        List<String> headers = request.getHeaders().getOrEmpty(HttpHeaders.AUTHORIZATION);
        Optional<X509Certificate> certificate = ReactiveRequestRefusals.clientCertificate(request);
        TokenAuthenticator.Outcome outcome = authenticator.authenticate(headers, certificate, false);
        if (outcome instanceof TokenAuthenticator.MustWait) {
            return Mono.fromCallable(() -> authenticator.authenticate(headers, certificate, true))
                    .subscribeOn(Schedulers.boundedElastic())
                    .flatMap(decided -> proceed(exchange, chain, decided));
        }
        return proceed(exchange, chain, outcome);
    }

    private Mono<Void> proceed(ServerWebExchange exchange, WebFilterChain chain, TokenAuthenticator.Outcome outcome) {
        if (outcome instanceof TokenAuthenticator.Refused refused) {
            return refusals.refuse(exchange, refused.status(), refused.reason(), refused.detail());
        }
        if (outcome instanceof TokenAuthenticator.Authenticated authenticated) {
            ServerHttpRequest request = exchange.getRequest();
            authenticator.authenticated(authenticated.authentication(), request.getMethod().name(),
                    request.getURI().getRawPath());
            return chain.filter(exchange)
                    .contextWrite(ReactiveSecurityContextHolder.withAuthentication(authenticated.authentication()));
        }
        return chain.filter(exchange); // no Authorization: the authorization rules decide
    }
}
