package io.settler.zerotrust.spring;

import io.settler.zerotrust.audit.AuditLog;
import io.settler.zerotrust.identity.ServiceIdentity;
import io.settler.zerotrust.token.TokenSource;
import java.net.URI;
import java.util.List;

/**
 * What every request of a {@link ZeroTrustClient} goes through before it is sent, whichever Spring
 * client sends it (the {@code RestClient}/{@code RestTemplate} interceptor, the {@code WebClient}
 * exchange filter): a URL that is not {@code https} is refused (audited as
 * {@code spring.client.refused}), and otherwise the request gets the token for the client's audience
 * and scopes from the application's {@link TokenSource} (reused until it is due for renewal).
 * Immutable and thread-safe.
 */
final class ClientRequestGuard {

    private final String client;
    private final String audience;
    private final List<String> scopes;
    private final TokenSource tokens;
    private final AuditLog audit;

    ClientRequestGuard(String client, ServiceIdentity audience, List<String> scopes, TokenSource tokens,
                       AuditLog audit) {
        this.client = client;
        this.audience = audience.toString();
        this.scopes = List.copyOf(scopes);
        this.tokens = tokens;
        this.audit = audit;
    }

    /**
     * The bearer token for a request to {@code uri}.
     *
     * @throws ZeroTrustClientException {@code PLAINTEXT_URL} (audited) when {@code uri} is not https;
     *     nothing is minted then
     */
    String bearerToken(URI uri) throws ZeroTrustClientException {
        if (!"https".equalsIgnoreCase(uri.getScheme())) {
            throw audit.event(SpringAudit.CLIENT_REFUSED).field("client", client)
                    .field("url", uri.getScheme() + "://" + uri.getHost() + ":" + uri.getPort())
                    .refused(new ZeroTrustClientException(ZeroTrustClientException.Reason.PLAINTEXT_URL,
                            "the client '" + client + "' sends requests over https only, not to " + uri.getScheme()
                                    + "://" + uri.getHost() + ": use an https URL"));
        }
        return tokens.token(audience, scopes);
    }
}
