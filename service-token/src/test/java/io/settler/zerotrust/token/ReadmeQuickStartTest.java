package io.settler.zerotrust.token;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.settler.zerotrust.identity.ServiceIdentity;
import io.settler.zerotrust.policy.Policy;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The README's quick start, verbatim, so it keeps compiling and working. */
class ReadmeQuickStartTest {

    @Test
    void quickStartWorks() {
        Policy policy = Policy.builder("example.org")
                .service("api", api -> api.scopes("db:read", "queue:jobs:publish"))
                .service("db-proxy", proxy -> { })
                .build();
        KeySet apiKeys = KeySet.builder().signingKey(TokenKey.generate(TokenAlgorithm.ES256, "api-2026-11")).build();
        ServiceTokens api = ServiceTokens.builder()
                .identity("spiffe://example.org/api")
                .keys(apiKeys)
                .policy(policy)
                .build();
        TokenSource tokens = TokenSource.builder(api).build();
        String token = tokens.token("spiffe://example.org/db-proxy", "db:read");

        String jwks = apiKeys.toJwks();
        ServiceTokens proxy = ServiceTokens.builder()
                .identity("spiffe://example.org/db-proxy")
                .verificationKeys(KeySet.fromJwks(jwks).pinnedTo("spiffe://example.org/api"))
                .trustIssuers("spiffe://example.org/api")
                .build();
        VerifiedToken verified = proxy.verify(token, "db:read");
        ServiceIdentity caller = verified.service();

        assertThat(caller).isEqualTo(ServiceIdentity.parse("spiffe://example.org/api"));
        assertThatThrownBy(() -> api.mint("spiffe://example.org/db-proxy", List.of("db:write")))
                .isInstanceOf(ServiceTokenException.class);
    }
}
