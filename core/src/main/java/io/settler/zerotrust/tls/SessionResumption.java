package io.settler.zerotrust.tls;

import java.util.UUID;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSocket;

/**
 * Keeps the JDK's TLS from resuming sessions, on servers and clients, without global system
 * properties. A resumed handshake skips the trust manager, so it would skip verification against
 * the current trust bundle, authorization and audit, for as long as the TLS stack honours the
 * session; chained TLS 1.3 tickets extend that indefinitely. Two per-connection mechanisms:
 *
 * <ul>
 *   <li>{@link #neverResumable(SSLSession)}: the trust manager invalidates each TLS 1.3 session it
 *       verifies. The JDK then sends no NewSessionTicket for it and caches it nowhere (the
 *       connection itself carries on). Not done for TLS 1.2, where the JDK promises a ticket in the
 *       ServerHello before the trust manager runs and would then break the handshake by not
 *       sending it.</li>
 *   <li>{@link #refuseResumption(SSLParameters)}: every engine and socket gets an endpoint
 *       identification algorithm of its own. The JDK resumes a session (session ID, TLS 1.2 ticket
 *       or TLS 1.3 PSK) only into a connection with the algorithm the session was made with, so no
 *       session can be resumed anywhere. Our trust managers extend {@code X509ExtendedTrustManager},
 *       for which the JDK adds no name check of its own, so the value has no other effect.</li>
 * </ul>
 */
final class SessionResumption {

    private static final String MARKER = "settler-no-resumption-";

    private SessionResumption() {
    }

    /** Gives {@code parameters} an identification algorithm no other connection has; returns them. */
    static SSLParameters refuseResumption(SSLParameters parameters) {
        parameters.setEndpointIdentificationAlgorithm(MARKER + UUID.randomUUID());
        return parameters;
    }

    static void refuseResumption(SSLEngine engine) {
        engine.setSSLParameters(refuseResumption(engine.getSSLParameters()));
    }

    static void refuseResumption(SSLSocket socket) {
        socket.setSSLParameters(refuseResumption(socket.getSSLParameters()));
    }

    /** Invalidates a TLS 1.3 session being negotiated, so it is neither cached nor sent as a ticket. */
    static void neverResumable(SSLSession handshakeSession) {
        if (handshakeSession != null && TlsProtocols.TLS13.equals(handshakeSession.getProtocol())) {
            handshakeSession.invalidate();
        }
    }
}
