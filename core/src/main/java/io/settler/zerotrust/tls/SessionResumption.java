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
 *   <li>{@link #neverResumable(SSLSession, boolean)}: the trust manager invalidates each session it
 *       verifies. The JDK then caches it nowhere and, as a TLS 1.3 server, sends no
 *       NewSessionTicket for it (the connection itself carries on). A server leaves TLS 1.2
 *       sessions alone: there the JDK promises a ticket in the ServerHello before the trust manager
 *       runs and would break the handshake by not sending it. A client invalidates every session,
 *       which keeps clients that build their own engines from our managers (Lettuce) and set
 *       their own endpoint identification algorithm from resuming TLS 1.2 sessions; the TLS 1.3
 *       tickets such a client receives are stored as new sessions, which only the second
 *       mechanism refuses.</li>
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

    /**
     * Invalidates a session being negotiated, so it is neither cached nor sent as a ticket: any
     * session on a client, TLS 1.3 sessions on a server.
     */
    static void neverResumable(SSLSession handshakeSession, boolean client) {
        if (handshakeSession != null && (client || TlsProtocols.TLS13.equals(handshakeSession.getProtocol()))) {
            handshakeSession.invalidate();
        }
    }
}
