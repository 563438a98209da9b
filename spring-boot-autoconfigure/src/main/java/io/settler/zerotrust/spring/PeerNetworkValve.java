package io.settler.zerotrust.spring;

import io.settler.zerotrust.network.IpAddressLiteral;
import jakarta.servlet.ServletException;
import java.io.IOException;
import java.net.InetAddress;
import java.security.cert.X509Certificate;
import java.util.Optional;
import org.apache.catalina.connector.Request;
import org.apache.catalina.connector.Response;
import org.apache.catalina.valves.ValveBase;

/**
 * {@link PeerNetworks} on Tomcat: the first valve of the engine, so every request, whatever filter
 * or security rule the application has, comes from a network the policy admits its caller from.
 */
final class PeerNetworkValve extends ValveBase {

    private final PeerNetworks networks;

    PeerNetworkValve(PeerNetworks networks) {
        super(true);
        this.networks = networks;
    }

    @Override
    public void invoke(Request request, Response response) throws IOException, ServletException {
        Optional<X509Certificate> certificate = request.getAttribute(RequestRefusals.CERTIFICATES)
                instanceof X509Certificate[] chain && chain.length > 0 ? Optional.of(chain[0]) : Optional.empty();
        if (networks.refusal(certificate, address(request.getRemoteAddr()), request.getMethod(),
                request.getRequestURI()).isEmpty()) {
            getNext().invoke(request, response);
            return;
        }
        response.setStatus(TokenAuthenticator.FORBIDDEN);
        response.setContentLength(0);
    }

    /** The remote address as Tomcat gives it, a literal: never looked up. */
    private static Optional<InetAddress> address(String remote) {
        try {
            return Optional.of(IpAddressLiteral.parse(remote));
        } catch (IllegalArgumentException | NullPointerException notAnAddress) {
            return Optional.empty();
        }
    }
}
