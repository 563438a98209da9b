package io.settler.zerotrust.spring;

import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.core.io.Resource;

/**
 * The {@code zerotrust.*} settings of a Boot service.
 *
 * <pre>{@code
 * zerotrust:
 *   service: api
 *   policy: file:/etc/zerotrust/policy.json
 *   credentials: { certificate: /etc/zerotrust/api.crt, key: /etc/zerotrust/api.key, trust: /etc/zerotrust/ca.crt }
 *   tokens:
 *     issuers:
 *       gateway: { jwks: file:/etc/zerotrust/jwks/gateway.json }
 *   clients:
 *     orders: { base-url: https://orders.internal:8443, audience: orders, scopes: [orders:read] }
 * }</pre>
 *
 * <p>Nothing has a default that could weaken the service: a missing service, policy or credential
 * file stops the start with a {@link ZeroTrustConfigurationException}.
 *
 * @param service this service's name in the policy, e.g. {@code api}: its identity, and the peers it accepts
 * @param policy the policy file, a Spring resource location such as {@code file:/etc/zerotrust/policy.json}
 *     or {@code classpath:policy.json}
 * @param credentials the PEM files of this service's certificate, key and trust bundle, re-read when they
 *     change
 * @param tokens the service tokens this service accepts
 * @param clients the services this service calls, by a name of the application's choosing
 */
@ConfigurationProperties("zerotrust")
public record ZeroTrustProperties(@Nullable String service, @Nullable Resource policy,
                                  @DefaultValue Credentials credentials, @DefaultValue Tokens tokens,
                                  @DefaultValue Map<String, Client> clients) {

    /** Copies the map. */
    public ZeroTrustProperties {
        clients = Map.copyOf(clients);
    }

    /**
     * This service's credentials as PEM files, watched and re-read when they change (certificate
     * rotation without a restart).
     *
     * @param certificate the certificate chain, leaf first, e.g. {@code /etc/zerotrust/api.crt}
     * @param key the leaf's private key (PKCS#8 or SEC1 PEM), e.g. {@code /etc/zerotrust/api.key}
     * @param trust the CA certificates peers must chain to, e.g. {@code /etc/zerotrust/ca.crt}
     */
    public record Credentials(@Nullable Path certificate, @Nullable Path key, @Nullable Path trust) {
    }

    /**
     * The service tokens this service accepts as a bearer {@code Authorization}.
     *
     * @param issuers per calling service, named as in the policy, where its published token keys are
     * @param requireCertificateBinding whether only tokens bound to the caller's certificate are accepted
     */
    public record Tokens(@DefaultValue Map<String, Issuer> issuers,
                         @DefaultValue("false") boolean requireCertificateBinding) {

        /** Copies the map. */
        public Tokens {
            issuers = Map.copyOf(issuers);
        }
    }

    /**
     * A service whose tokens are accepted.
     *
     * @param jwks its published public token keys (a JWK Set), a Spring resource location such as
     *     {@code file:/etc/zerotrust/jwks/gateway.json}
     */
    public record Issuer(@Nullable Resource jwks) {
    }

    /**
     * A service this service calls over mutual TLS with a service token ({@link ZeroTrustClients}).
     *
     * @param baseUrl where it listens, {@code https} only, e.g. {@code https://orders.internal:8443}
     * @param audience the called service's name in the policy: its SPIFFE identity is what its certificate
     *     must prove and the audience of the tokens sent to it
     * @param scopes the scopes each request's token carries, e.g. {@code orders:read}
     */
    public record Client(@Nullable URI baseUrl, @Nullable String audience, @DefaultValue List<String> scopes) {

        /** Copies the list. */
        public Client {
            scopes = List.copyOf(scopes);
        }
    }
}
