package io.settler.zerotrust.netty;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.settler.zerotrust.token.TokenSource;
import java.util.List;
import java.util.Objects;

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
}
