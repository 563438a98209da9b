package io.settler.zerotrust.netty;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.settler.zerotrust.audit.AuditEvent;
import io.settler.zerotrust.audit.AuditLog;
import io.settler.zerotrust.audit.LogSafe;
import io.settler.zerotrust.credentials.CredentialSource;
import io.settler.zerotrust.identity.InvalidServiceIdentityException;
import io.settler.zerotrust.identity.ServiceIdentity;
import io.settler.zerotrust.tls.MtlsContext;
import io.settler.zerotrust.token.TokenSource;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * The client side of {@link ServiceTokenAuthHandler}: an {@link MtlsHttpClient.RequestHeaders} that
 * sets {@code Authorization: Bearer <token>} on every request, with a token from a
 * {@link TokenSource} (reused until it is due for renewal, so not minted per request), and only
 * when the server of the connection is the token's audience.
 *
 * <pre>{@code
 * MtlsHttpClient http = MtlsHttpClient.builder(clientTls)
 *         .requestHeaders(BearerTokens.from(tokenSource, "spiffe://example.org/api", "jobs:read"))
 *         .build();
 * }</pre>
 *
 * <p><b>Audience and server.</b> The audience is the SPIFFE ID of the service the token is for,
 * {@code spiffe://<trust-domain>/<service>} (the identity that service's {@code ServiceTokens} is
 * built with). A token is attached only on a connection whose server certificate, as the client
 * context verified it ({@link MtlsHttpClient.Connection#server()}: PKIX against the client's trust
 * bundle, the expected name), carries exactly that SPIFFE ID: the same trust domain and the same
 * path. A host name check alone does not say which service answers (every service on a host may
 * hold a certificate for its name), so a server proving another SPIFFE ID, or none, gets no token:
 * the request is not sent, it fails with a {@link TokenWithheldException} ({@code AUDIENCE_MISMATCH}
 * or {@code NO_SERVER_IDENTITY}) and a {@code token.withheld} audit event is recorded (never with a
 * token: none is minted). The same holds when the hook is called without the connection
 * ({@link #addTo(HttpRequest, HttpHeaders)}). Setting the client context's
 * {@code expectedServer(audience)} makes the handshake itself refuse other services. Immutable and
 * thread-safe.
 */
public final class BearerTokens implements MtlsHttpClient.RequestHeaders {

    private final TokenSource tokens;
    private final ServiceIdentity audience;
    private final String[] scopes;
    private final @Nullable CredentialSource bindTo;
    private final AuditLog audit;
    private final Clock clock;

    private BearerTokens(Builder builder) {
        this.tokens = builder.tokens;
        this.audience = builder.audience;
        this.scopes = builder.scopes.toArray(String[]::new);
        this.bindTo = builder.bindTo;
        this.audit = builder.audit;
        this.clock = builder.clock;
    }

    /**
     * Starts a builder of headers carrying a token for {@code audience} from {@code tokens}.
     *
     * @param audience the SPIFFE ID of the service the token is for, e.g. {@code spiffe://example.org/api}
     * @throws IllegalArgumentException if {@code audience} is not a SPIFFE ID
     */
    public static Builder builder(TokenSource tokens, String audience) {
        return new Builder(tokens, audience);
    }

    /**
     * Headers carrying a token for {@code audience} (the server's SPIFFE ID) with {@code scopes},
     * attached only when the server proves that SPIFFE ID; refusals are audited to
     * {@link AuditLog#slf4j()} (use {@link #builder} for another log). A failure to mint (e.g. a
     * scope the policy does not grant) fails that request.
     */
    public static BearerTokens from(TokenSource tokens, String audience, String... scopes) {
        return builder(tokens, audience).scopes(scopes).build();
    }

    /**
     * Headers carrying a token for {@code audience} with {@code scopes}, bound (RFC 8705) to the
     * certificate this client presented on the request's connection: a server whose verifier says
     * {@code requireCertificateBinding()} accepts it only on this client's connections, so a stolen
     * token is useless elsewhere. Tokens are reused per certificate until due for renewal. Attached
     * only when the server proves the audience's SPIFFE ID, like {@link #from}.
     *
     * @param credentials the client's credentials, the same its {@link MtlsContext} presents
     * @see Builder#boundTo(CredentialSource)
     */
    public static BearerTokens boundTo(TokenSource tokens, CredentialSource credentials,
                                       String audience, String... scopes) {
        return builder(tokens, audience).scopes(scopes).boundTo(credentials).build();
    }

    /** The service the tokens are for. */
    public ServiceIdentity audience() {
        return audience;
    }

    /**
     * Without the connection there is no verified server to compare with the audience: always
     * refused ({@code NO_SERVER_IDENTITY}); {@link MtlsHttpClient} calls
     * {@link #addTo(HttpRequest, HttpHeaders, MtlsHttpClient.Connection)}.
     *
     * @throws TokenWithheldException always
     */
    @Override
    public void addTo(HttpRequest request, HttpHeaders headers) {
        throw withhold(TokenWithheldException.Reason.NO_SERVER_IDENTITY, "unknown", Optional.empty(), "none",
                "a token for " + audience + " is only attached on a connection whose verified server is that service,"
                        + " and this call has no connection; use BearerTokens with MtlsHttpClient, or call"
                        + " addTo(request, headers, connection)");
    }

    /**
     * Sets the {@code Authorization} header if the connection's verified server is the audience.
     *
     * @throws TokenWithheldException when it is not, or when the server proved no SPIFFE ID
     */
    @Override
    public void addTo(HttpRequest request, HttpHeaders headers, MtlsHttpClient.Connection connection) {
        Optional<ServiceIdentity> server = connection.server().identity();
        String remote = connection.host() + ":" + connection.port();
        String fingerprint = connection.server().sha256Fingerprint();
        if (server.isEmpty()) {
            throw withhold(TokenWithheldException.Reason.NO_SERVER_IDENTITY, remote, server, fingerprint,
                    "the server at " + LogSafe.text(remote) + " proved no SPIFFE ID (its certificate names hosts only),"
                            + " so it cannot be shown to be " + audience + "; the token was not sent. Give that"
                            + " service a certificate with its SPIFFE ID, and set expectedServer(\"" + audience
                            + "\") on the client context");
        }
        if (!server.get().equals(audience)) {
            throw withhold(TokenWithheldException.Reason.AUDIENCE_MISMATCH, remote, server, fingerprint,
                    "the server at " + LogSafe.text(remote) + " proved " + server.get() + ", not " + audience
                            + ", the audience of this token; the token was not sent. Connect to " + audience
                            + ", and set expectedServer(\"" + audience + "\") on the client context so that the"
                            + " handshake refuses any other service");
        }
        X509Certificate own = bindTo == null ? null : presented(connection).orElseGet(
                () -> bindTo.current().identity().certificate());
        String token = own == null ? tokens.token(audience.toString(), scopes)
                : tokens.boundToken(own, audience.toString(), scopes);
        headers.set(HttpHeaderNames.AUTHORIZATION, "Bearer " + token);
    }

    /**
     * The certificate this client presented on the connection, read from its TLS session, which is
     * right also on a resumed session (it presents the certificate of its original handshake, even
     * after a rotation). Netty's OpenSSL engine does not report a client's own certificate: then
     * empty, and the credential source's current certificate is used.
     */
    private static Optional<X509Certificate> presented(MtlsHttpClient.Connection connection) {
        Certificate[] presented = connection.session().getLocalCertificates();
        return presented != null && presented.length > 0 && presented[0] instanceof X509Certificate own
                ? Optional.of(own) : Optional.empty();
    }

    private TokenWithheldException withhold(TokenWithheldException.Reason reason, String remote,
                                            Optional<ServiceIdentity> server, String fingerprint, String message) {
        audit.record(AuditEvent.builder(clock.instant(), "token.withheld", AuditEvent.Outcome.REFUSED)
                .field("audience", audience)
                .field("server", server.map(Object::toString).orElse("none"))
                .field("fingerprint", fingerprint)
                .field("remote", LogSafe.text(remote))
                .field("reason", reason)
                .field("detail", message)
                .build());
        return new TokenWithheldException(reason, message);
    }

    @Override
    public String toString() {
        return "BearerTokens[" + audience + ", scopes=" + List.of(scopes) + (bindTo == null ? "" : ", bound") + "]";
    }

    /** Builds {@link BearerTokens}. */
    public static final class Builder {
        private final TokenSource tokens;
        private final ServiceIdentity audience;
        private List<String> scopes = List.of();
        private @Nullable CredentialSource bindTo;
        private AuditLog audit = AuditLog.slf4j();
        private Clock clock = Clock.systemUTC();

        private Builder(TokenSource tokens, String audience) {
            this.tokens = Objects.requireNonNull(tokens, "tokens");
            Objects.requireNonNull(audience, "audience");
            try {
                this.audience = ServiceIdentity.parse(audience);
            } catch (InvalidServiceIdentityException e) {
                throw new IllegalArgumentException("the audience must be the SPIFFE ID of the service the token is"
                        + " for, e.g. spiffe://example.org/api: " + e.getMessage(), e);
            }
        }

        /** The scopes each token carries (default none). */
        public Builder scopes(String... scopes) {
            this.scopes = List.of(scopes);
            return this;
        }

        /**
         * Binds each token (RFC 8705) to the certificate this client presented on the request's
         * connection, read from its TLS session. Netty's OpenSSL engine does not report a client's
         * own certificate; then the token is bound to {@code credentials}' current certificate, and
         * a connection whose handshake raced a rotation gets a {@code 403}: use
         * {@link NettyMtls.Provider#JDK} for clients that rotate, or retry.
         *
         * @param credentials the client's credentials, the same its {@link MtlsContext} presents
         */
        public Builder boundTo(CredentialSource credentials) {
            this.bindTo = Objects.requireNonNull(credentials, "credentials");
            return this;
        }

        /** Where withheld tokens are recorded (default {@link AuditLog#slf4j()}). */
        public Builder auditLog(AuditLog audit) {
            this.audit = Objects.requireNonNull(audit, "audit");
            return this;
        }

        /** The clock that stamps those events. */
        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /** Builds the headers hook. */
        public BearerTokens build() {
            return new BearerTokens(this);
        }
    }
}
