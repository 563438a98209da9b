package io.settler.zerotrust.examples.boot;

import io.settler.zerotrust.authz.AuthorizationDecision;
import io.settler.zerotrust.authz.Peer;
import io.settler.zerotrust.authz.PeerAuthorizer;
import io.settler.zerotrust.identity.ServiceIdentity;
import io.settler.zerotrust.spring.ZeroTrustAuthentication;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Objects;
import java.util.Optional;
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

    /**
     * Why the policy's rule refuses {@code caller} connecting from {@code remoteAddress} (an address literal, as
     * the servlet request gives it), or empty if it accepts it.
     */
    static Optional<String> refusal(PeerAuthorizer accepts, ServiceIdentity caller, String remoteAddress) {
        if (!isAddressLiteral(remoteAddress)) {
            return Optional.of("not an address: " + remoteAddress);
        }
        InetAddress remote;
        try {
            remote = InetAddress.getByName(remoteAddress); // a literal: no lookup
        } catch (UnknownHostException e) {
            return Optional.of("not an address: " + remoteAddress);
        }
        AuthorizationDecision decision = accepts.authorize(Peer.of(caller, remote));
        return decision.allowed() ? Optional.empty() : Optional.of(decision.reason());
    }

    /** IPv4 dotted or IPv6 (hex digits, colons, dots): never a name that would be looked up. */
    private static boolean isAddressLiteral(String text) {
        boolean ipv6 = text.indexOf(':') >= 0;
        return !text.isEmpty() && text.chars().allMatch(c -> (c >= '0' && c <= '9') || c == '.'
                || (ipv6 && (c == ':' || Character.digit(c, 16) >= 0)));
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        Authentication caller = SecurityContextHolder.getContext().getAuthentication();
        if (caller instanceof ZeroTrustAuthentication service) {
            Optional<String> refusal = refusal(accepts, service.getPrincipal(), request.getRemoteAddr());
            if (refusal.isEmpty()) {
                chain.doFilter(request, response);
                return;
            }
            LOG.warn("refused {} from {}: {}", service.getPrincipal(), request.getRemoteAddr(), refusal.get());
        }
        response.setStatus(HttpServletResponse.SC_FORBIDDEN);
    }
}
