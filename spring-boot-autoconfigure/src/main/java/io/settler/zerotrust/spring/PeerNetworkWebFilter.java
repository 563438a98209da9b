package io.settler.zerotrust.spring;

import java.net.InetSocketAddress;
import java.util.Optional;
import org.springframework.core.Ordered;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.server.reactive.ServerHttpRequest;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.WebFilter;
import org.springframework.web.server.WebFilterChain;
import reactor.core.publisher.Mono;

/**
 * {@link PeerNetworks} on WebFlux: the first web filter, ahead of Spring Security's, so every
 * exchange comes from a network the policy admits its caller from.
 */
final class PeerNetworkWebFilter implements WebFilter, Ordered {

    private final PeerNetworks networks;

    PeerNetworkWebFilter(PeerNetworks networks) {
        this.networks = networks;
    }

    @Override
    public int getOrder() {
        return Ordered.HIGHEST_PRECEDENCE;
    }

    @Override
    public Mono<Void> filter(ServerWebExchange exchange, WebFilterChain chain) {
        if (!networks.active()) {
            return chain.filter(exchange);
        }
        ServerHttpRequest request = exchange.getRequest();
        InetSocketAddress remote = request.getRemoteAddress();
        if (networks.refusal(ReactiveRequestRefusals.clientCertificate(request),
                Optional.ofNullable(remote).map(InetSocketAddress::getAddress), request.getMethod().name(),
                request.getURI().getRawPath()).isEmpty()) {
            return chain.filter(exchange);
        }
        exchange.getResponse().setStatusCode(HttpStatusCode.valueOf(TokenAuthenticator.FORBIDDEN));
        exchange.getResponse().getHeaders().setContentLength(0);
        return exchange.getResponse().setComplete();
    }
}
