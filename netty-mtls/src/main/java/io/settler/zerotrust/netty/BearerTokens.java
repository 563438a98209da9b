package io.settler.zerotrust.netty;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.settler.zerotrust.credentials.CredentialSource;
import io.settler.zerotrust.tls.MtlsContext;
import io.settler.zerotrust.token.TokenSource;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Objects;
import javax.net.ssl.SSLSession;

/**
 * The client side of {@link ServiceTokenAuthHandler}: an {@link MtlsHttpClient.RequestHeaders} that
 * sets {@code Authorization: Bearer <token>} on every request, with a token from a
 * {@link TokenSource} (reused until it is due for renewal, so not minted per request).
 *
 * <pre>{@code
 * MtlsHttpClient http = MtlsHttpClient.builder(clientTls)
 *         .requestHeaders(BearerTokens.from(tokenSource, "spiffe://example.org/api", "jobs:read"))
 *         .build();
 * }</pre>
 */
public final class BearerTokens {

    private BearerTokens() {
    }

    /**
     * Headers carrying a token for {@code audience} (the server's SPIFFE ID) with {@code scopes}.
     * A failure to mint (e.g. a scope the policy does not grant) fails that request.
     */
    public static MtlsHttpClient.RequestHeaders from(TokenSource tokens, String audience, String... scopes) {
        Objects.requireNonNull(tokens, "tokens");
        Objects.requireNonNull(audience, "audience");
        List<String> scopeList = List.of(scopes);
        return (request, headers) -> headers.set(HttpHeaderNames.AUTHORIZATION,
                "Bearer " + tokens.token(audience, scopeList));
    }

    /**
     * Headers carrying a token for {@code audience} with {@code scopes}, bound (RFC 8705) to the
     * certificate this client presented on the request's connection: a server whose verifier says
     * {@code requireCertificateBinding()} accepts it only on this client's connections, so a stolen
     * token is useless elsewhere. Tokens are reused per certificate until due for renewal.
     *
     * <p>The certificate is read from the connection's TLS session, which is right also on a
     * resumed session (which presents the certificate of its original handshake, even after a
     * rotation). Netty's OpenSSL engine does not report a client's own certificate; then the token
     * is bound to {@code credentials}' current certificate, and a session resumed across a rotation
     * (within the context's session timeout) is refused with {@code 403}: use
     * {@link NettyMtls.Provider#JDK} for clients that rotate, or retry.
     *
     * @param credentials the client's credentials, the same its {@link MtlsContext} presents
     */
    public static MtlsHttpClient.RequestHeaders boundTo(TokenSource tokens, CredentialSource credentials,
                                                        String audience, String... scopes) {
        Objects.requireNonNull(tokens, "tokens");
        Objects.requireNonNull(credentials, "credentials");
        Objects.requireNonNull(audience, "audience");
        String[] scopeArray = scopes.clone();
        return new MtlsHttpClient.RequestHeaders() {
            @Override
            public void addTo(HttpRequest request, HttpHeaders headers) {
                headers.set(HttpHeaderNames.AUTHORIZATION, "Bearer "
                        + tokens.boundToken(credentials.current().identity().certificate(), audience, scopeArray));
            }

            @Override
            public void addTo(HttpRequest request, HttpHeaders headers, SSLSession session) {
                Certificate[] presented = session.getLocalCertificates();
                if (presented != null && presented.length > 0 && presented[0] instanceof X509Certificate own) {
                    headers.set(HttpHeaderNames.AUTHORIZATION, "Bearer " + tokens.boundToken(own, audience, scopeArray));
                } else {
                    addTo(request, headers);
                }
            }
        };
    }
}
