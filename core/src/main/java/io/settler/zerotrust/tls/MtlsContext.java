package io.settler.zerotrust.tls;

import io.settler.zerotrust.audit.AuditLog;
import io.settler.zerotrust.audit.CoreAudit;
import io.settler.zerotrust.authz.PeerAuthorizer;
import io.settler.zerotrust.credentials.CredentialSnapshot;
import io.settler.zerotrust.credentials.CredentialSource;
import io.settler.zerotrust.trust.PeerCertificateVerifier;
import io.settler.zerotrust.trust.PeerName;
import io.settler.zerotrust.trust.PeerVerificationException;
import io.settler.zerotrust.trust.VerifiedPeer;
import java.io.IOException;
import java.net.InetAddress;
import java.security.GeneralSecurityException;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLServerSocketFactory;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509ExtendedKeyManager;
import javax.net.ssl.X509ExtendedTrustManager;
import org.jspecify.annotations.Nullable;

/**
 * A JDK mutual-TLS context for a server or a client, built from a {@link CredentialSource}.
 *
 * <pre>{@code
 * MtlsContext server = MtlsContext.server(credentials, PeerAuthorizer.builder()
 *         .allowIdentities("spiffe://example.org/worker").build()).build();
 * SSLServerSocket socket = (SSLServerSocket) server.serverSocketFactory().createServerSocket(8443);
 *
 * MtlsContext client = MtlsContext.client(credentials)
 *         .expectedServer("spiffe://example.org/api")   // or leave out: verify the host name connected to
 *         .build();
 * }</pre>
 *
 * <p>TLS 1.3 only unless {@link Builder#allowTls12()}; explicit AEAD suites; servers require a
 * client certificate. Every engine and socket made from {@link #sslContext()} gets these
 * parameters, even when the caller never applies {@link #sslParameters()}. The peer is verified
 * by PKIX against the current trust bundle at the builder's clock, then (servers) authorized by
 * the {@link PeerAuthorizer} or (clients) matched against the expected server name, by DNS/IP SAN
 * or SPIFFE identity, never the subject CN. Rotation in the credential source reaches new
 * handshakes without rebuilding the context. No TLS session is ever resumed, on either end: a
 * resumed handshake would skip verification, authorization and audit, so every connection gets a
 * full handshake (no TLS 1.3 tickets are issued or kept). Every decision leaves an audit event,
 * and building the context records a posture event. Immutable and thread-safe.
 */
public final class MtlsContext {

    private final Role role;
    private final SSLContext sslContext;
    private final SSLParameters parameters;
    private final AuditLog audit;
    private final X509ExtendedKeyManager keyManager;
    private final VerifyingTrustManager trustManager;

    /** Which end of the connection a context is for. */
    public enum Role {
        /** Accepts connections; requires and authorizes client certificates. */
        SERVER,
        /** Opens connections; verifies the server's name or identity. */
        CLIENT
    }

    private MtlsContext(Builder builder) {
        this.role = builder.role;
        this.audit = builder.audit;
        CredentialSource source = builder.credentials;
        SnapshotState state = new SnapshotState(source, builder.clock);
        SnapshotKeyManager keyManager = new SnapshotKeyManager(() -> state.current().keys());
        VerifyingTrustManager trustManager = role == Role.SERVER
                ? VerifyingTrustManager.forServer(() -> state.current().verifier(),
                        builder.serverAuthorizer(), builder.audit)
                : VerifyingTrustManager.forClient(() -> state.current().verifier(),
                        host -> builder.expectedServer.or(() -> Optional.ofNullable(host).map(PeerName::parse)),
                        builder.audit);
        this.keyManager = keyManager;
        this.trustManager = trustManager;

        this.parameters = new SSLParameters(TlsProtocols.cipherSuites(builder.allowTls12),
                TlsProtocols.protocols(builder.allowTls12));
        parameters.setNeedClientAuth(role == Role.SERVER);
        parameters.setUseCipherSuitesOrder(true);
        parameters.setEndpointIdentificationAlgorithm(null); // our trust manager matches names itself
        try {
            SSLContext context = SSLContext.getInstance(TlsProtocols.TLS13);
            context.init(new KeyManager[] {keyManager}, new TrustManager[] {trustManager}, null);
            this.sslContext = new EnforcingSslContext(context, parameters);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this JDK cannot create a TLS 1.3 context", e);
        }
        recordPosture(builder, source.current());
    }

    /**
     * A server context: client certificates required, then authorized by {@code authorizer}.
     *
     * @param credentials what the server presents and trusts
     * @param authorizer which verified clients may connect
     * @return a builder for the remaining options
     */
    public static Builder server(CredentialSource credentials, PeerAuthorizer authorizer) {
        return new Builder(Role.SERVER, credentials, Objects.requireNonNull(authorizer, "authorizer"));
    }

    /**
     * A client context: presents its certificate and verifies the server, by default against the
     * host name or IP address it connects to.
     *
     * @param credentials what the client presents and trusts
     * @return a builder for the remaining options
     */
    public static Builder client(CredentialSource credentials) {
        return new Builder(Role.CLIENT, credentials, null);
    }

    /** Server or client. */
    public Role role() {
        return role;
    }

    /** The context; every engine and socket it makes carries {@link #sslParameters()}. */
    public SSLContext sslContext() {
        return sslContext;
    }

    /**
     * The rotation-aware key manager behind {@link #sslContext()}, for TLS stacks that take key
     * managers rather than an {@code SSLContext} (Netty's {@code SslContextBuilder}, Lettuce). Each
     * rotation is served under a new alias, so providers that cache key material per alias (Netty's
     * OpenSSL provider) pick up new credentials too.
     */
    public X509ExtendedKeyManager keyManager() {
        return keyManager;
    }

    /**
     * The trust manager behind {@link #sslContext()}: PKIX against the current trust bundle, then
     * authorization (servers) or the expected server name (clients), with audit events. For TLS
     * stacks that take trust managers rather than an {@code SSLContext}; such a stack must not add
     * its own host name check on top (ours matches URI, DNS and IP SANs itself).
     */
    public X509ExtendedTrustManager trustManager() {
        return trustManager;
    }

    /** The parameters to apply where an engine is made elsewhere (a fresh copy each call). */
    public SSLParameters sslParameters() {
        return sslContext.getDefaultSSLParameters();
    }

    /**
     * Keeps an engine built elsewhere from {@link #keyManager()} and {@link #trustManager()} on the
     * JDK (Netty's JDK provider) from resuming any earlier session, as engines made by
     * {@link #sslContext()} already are: a resumed handshake would skip verification,
     * authorization and audit. Call it once per engine, before its handshake.
     *
     * @param engine a JDK engine of this context's role
     * @return the same engine
     */
    public SSLEngine refuseResumption(SSLEngine engine) {
        SessionResumption.refuseResumption(Objects.requireNonNull(engine, "engine"));
        return engine;
    }

    /** A server engine, or a client engine that verifies by its peer host name. */
    public SSLEngine newEngine(@Nullable String peerHost, int peerPort) {
        SSLEngine engine = sslContext.createSSLEngine(peerHost, peerPort);
        engine.setUseClientMode(role == Role.CLIENT);
        return engine;
    }

    /** Sockets for a client; each connects and handshakes with our parameters. */
    public SSLSocketFactory socketFactory() {
        return sslContext.getSocketFactory();
    }

    /** Server sockets for a server; each requires client certificates. */
    public SSLServerSocketFactory serverSocketFactory() {
        return sslContext.getServerSocketFactory();
    }

    /**
     * Verifies the peer of an established connection again, as a new handshake would now: PKIX
     * against the trust bundle current now (after any rotation) at the builder's clock, then
     * (clients) the expected server name. For connections that outlive a rotation, which a new
     * trust bundle only reaches at their next handshake: netty-mtls's {@code ConnectionExpiryHandler}
     * closes those that fail. Authorization is not re-run here (a policy change brings its own
     * authorizer) and nothing is audited: the caller records what it does about a refusal.
     *
     * @param session the session of a connection whose handshake with this context completed
     * @return the peer as verified now
     * @throws PeerVerificationException with the reason a handshake now would refuse the peer
     * @throws IllegalArgumentException if the session has no verified peer certificate chain
     */
    public VerifiedPeer verifyAgain(SSLSession session) throws PeerVerificationException {
        Objects.requireNonNull(session, "session");
        Certificate[] presented;
        try {
            presented = session.getPeerCertificates();
        } catch (SSLPeerUnverifiedException e) {
            throw new IllegalArgumentException("the session has no verified peer: pass the session of a connection"
                    + " whose handshake completed", e);
        }
        List<X509Certificate> chain = new ArrayList<>(presented.length);
        for (Certificate certificate : presented) {
            if (!(certificate instanceof X509Certificate x509)) {
                throw new IllegalArgumentException("the session's peer presented a non-X.509 certificate");
            }
            chain.add(x509);
        }
        return trustManager.verifyAgain(chain, session.getPeerHost());
    }

    /**
     * Completes the handshake of a socket made by this context, and audits a refusal that the JDK
     * makes before our verification runs (no client certificate, a protocol version we do not
     * enable, no common cipher suite). Refusals by our own verification are audited where they
     * happen. Servers built on JDK sockets call this right after {@code accept()}: it also keeps
     * the socket from resuming a TLS 1.2 session (TLS 1.3 sessions are never resumable anyway).
     *
     * @param socket an accepted or connected socket of this context
     * @throws SSLException the handshake failure, unchanged
     */
    public void handshake(SSLSocket socket) throws IOException {
        try {
            SessionResumption.refuseResumption(socket);
            socket.startHandshake();
        } catch (SSLException e) {
            recordHandshakeFailure(e, Optional.ofNullable(socket.getInetAddress()));
            throw e;
        }
    }

    /**
     * Audits a failed handshake of an engine built elsewhere from {@link #keyManager()} and
     * {@link #trustManager()} (Netty, with the JDK or the OpenSSL provider), when the TLS stack
     * refused before our verification ran: no client certificate, a protocol version or cipher
     * suite we do not enable, not TLS at all. A refusal by our own verification was audited where
     * it happened and is not recorded twice.
     *
     * @param failure the handshake failure as the TLS stack reported it
     * @param remote the peer's address, when known
     * @return whether an event was recorded (false when our verification had refused already)
     */
    public boolean recordHandshakeFailure(Throwable failure, Optional<InetAddress> remote) {
        Objects.requireNonNull(failure, "failure");
        if (refusedByUs(failure)) {
            return false;
        }
        audit.event(CoreAudit.PEER_REFUSED)
                .field("role", role == Role.SERVER ? "client" : "server")
                .field("fingerprint", "none")
                .field("remote", remote.map(InetAddress::getHostAddress).orElse("unknown"))
                .field("reason", HandshakeRefusal.classify(failure))
                .field("detail", String.valueOf(failure.getMessage()))
                .record();
        return true;
    }

    private static boolean refusedByUs(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof PeerVerificationException) {
                return true;
            }
        }
        return false;
    }

    /** The audit log this context records its decisions to, for handlers that record on its behalf. */
    public AuditLog auditLog() {
        return audit;
    }

    @Override
    public String toString() {
        return "MtlsContext[" + role + ", protocols=" + String.join(",", parameters.getProtocols()) + "]";
    }

    private void recordPosture(Builder builder, CredentialSnapshot snapshot) {
        AuditLog.Entry event = builder.audit.event(builder.allowTls12 ? CoreAudit.TLS_POSTURE_WEAKENED
                        : CoreAudit.TLS_POSTURE)
                .field("role", role)
                .field("protocols", String.join(",", parameters.getProtocols()))
                .field("cipher_suites", String.join(",", parameters.getCipherSuites()))
                .field("client_auth", role == Role.SERVER ? "required" : "presented")
                .field("session_resumption", "refused")
                .field("identity", snapshot.identity().identity().map(Object::toString).orElse("none"))
                .field("fingerprint", snapshot.identity().fingerprint())
                .field("trust_anchors", String.join(",", snapshot.trust().fingerprints()));
        if (role == Role.SERVER) {
            event.field("authorizer", builder.serverAuthorizer().summary());
        } else {
            event.field("expected_server", builder.expectedServer.map(Object::toString).orElse("host connected to"));
        }
        event.record();
    }

    /**
     * What handshakes need from the current snapshot (key material, a verifier for its trust
     * bundle), built once per snapshot rather than once per handshake.
     */
    private static final class SnapshotState {
        private final CredentialSource source;
        private final Clock clock;
        private final AtomicReference<Entry> entry = new AtomicReference<>();

        record Entry(CredentialSnapshot snapshot, SnapshotKeyManager.KeyMaterial keys,
                     PeerCertificateVerifier verifier) {
        }

        SnapshotState(CredentialSource source, Clock clock) {
            this.source = source;
            this.clock = clock;
        }

        @SuppressWarnings("ReferenceEquality") // the same snapshot object, not an equal one, may reuse the entry
        Entry current() {
            CredentialSnapshot snapshot = source.current();
            Entry cached = entry.get();
            if (cached != null && cached.snapshot() == snapshot) {
                return cached;
            }
            Entry fresh = new Entry(snapshot,
                    new SnapshotKeyManager.KeyMaterial(snapshot.generation(), snapshot.identity().privateKey(),
                            snapshot.identity().chain().toArray(X509Certificate[]::new)),
                    PeerCertificateVerifier.builder().trustAnchors(snapshot.trust().anchors()).clock(clock).build());
            entry.set(fresh);
            return fresh;
        }
    }

    /** Builds an {@link MtlsContext}. */
    public static final class Builder {
        private final Role role;
        private final CredentialSource credentials;
        private final @Nullable PeerAuthorizer authorizer;
        private Optional<PeerName> expectedServer = Optional.empty();
        private Clock clock = Clock.systemUTC();
        private AuditLog audit = AuditLog.slf4j();
        private boolean allowTls12;

        private Builder(Role role, CredentialSource credentials, @Nullable PeerAuthorizer authorizer) {
            this.role = role;
            this.credentials = Objects.requireNonNull(credentials, "credentials");
            this.authorizer = authorizer;
        }

        /** The authorizer, which {@link #server} requires; only server contexts call this. */
        private PeerAuthorizer serverAuthorizer() {
            return Objects.requireNonNull(authorizer, "a server context has an authorizer");
        }

        /**
         * Clients only: the server must prove this name, whatever host the connection went to; a
         * SPIFFE ID ({@code spiffe://example.org/api}), a DNS name or an IP address.
         */
        public Builder expectedServer(String hostOrIdentity) {
            if (role != Role.CLIENT) {
                throw new IllegalStateException(
                        "expectedServer is for clients; servers authorize clients with a PeerAuthorizer");
            }
            this.expectedServer = Optional.of(PeerName.parse(hostOrIdentity));
            return this;
        }

        /** The clock that decides certificate validity (default the system clock). */
        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /** Where accept, refuse and posture events go (default {@link AuditLog#slf4j()}). */
        public Builder auditLog(AuditLog audit) {
            this.audit = Objects.requireNonNull(audit, "audit");
            return this;
        }

        /**
         * Also accepts TLS 1.2, with forward-secret AEAD suites only, for peers that cannot speak
         * TLS 1.3. Recorded as a WARNING in the posture event.
         */
        public Builder allowTls12() {
            this.allowTls12 = true;
            return this;
        }

        /** Builds the context and records its posture. */
        public MtlsContext build() {
            return new MtlsContext(this);
        }
    }
}
