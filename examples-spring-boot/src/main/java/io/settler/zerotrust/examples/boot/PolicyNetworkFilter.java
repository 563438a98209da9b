package io.settler.zerotrust.examples.boot;

import io.settler.zerotrust.authz.AuthorizationDecision;
import io.settler.zerotrust.authz.Peer;
import io.settler.zerotrust.authz.PeerAuthorizer;
import io.settler.zerotrust.spring.ZeroTrustAuthentication;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.security.core.Authentication;
import org.springframework.security.core.context.SecurityContextHolder;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * The policy's whole accept rule of this service (identity <em>and</em> source networks) for each request:
 * the caller's service (its token's, which the starter checked is its certificate's) from the connection's
 * address. Tomcat does not give the handshake the peer's address, so the handshake can check the identity
 * only ({@link BootApiServer#serverContext}); this filter, after Spring Security's authorization, refuses
 * the rest with {@code 403} and an empty body.
 */
final class PolicyNetworkFilter extends OncePerRequestFilter {

    private static final Logger LOG = LoggerFactory.getLogger(PolicyNetworkFilter.class);

    private final PeerAuthorizer accepts;

    PolicyNetworkFilter(PeerAuthorizer accepts) {
        this.accepts = Objects.requireNonNull(accepts, "accepts");
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        Authentication caller = SecurityContextHolder.getContext().getAuthentication();
        if (caller instanceof ZeroTrustAuthentication service) {
            InetAddress remote;
            try {
                remote = InetAddress.getByName(request.getRemoteAddr()); // an address literal: no lookup
            } catch (UnknownHostException e) {
                remote = null;
            }
            AuthorizationDecision decision = remote == null ? null
                    : accepts.authorize(Peer.of(service.getPrincipal(), remote));
            if (decision != null && decision.allowed()) {
                chain.doFilter(request, response);
                return;
            }
            LOG.warn("refused {} from {}: {}", service.getPrincipal(), request.getRemoteAddr(),
                    decision == null ? "no address" : decision.reason());
        }
        response.setStatus(HttpServletResponse.SC_FORBIDDEN);
    }
}
