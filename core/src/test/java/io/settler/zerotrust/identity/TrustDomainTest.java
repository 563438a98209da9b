package io.settler.zerotrust.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class TrustDomainTest {

    @Test
    void acceptsSpiffeTrustDomainsAndReadsAsItsName() {
        TrustDomain domain = TrustDomain.of("prod_1.example-org.test");

        assertThat(domain.name()).isEqualTo("prod_1.example-org.test");
        assertThat(domain).hasToString("prod_1.example-org.test");
        assertThat(domain.identity("/api")).isEqualTo(ServiceIdentity.parse("spiffe://prod_1.example-org.test/api"));
        assertThat(ServiceIdentity.parse("spiffe://prod_1.example-org.test/api").trustDomain()).isEqualTo(domain);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "Example.org", "example.org:8443", "user@example.org", "spiffe://example.org",
        "example.org/api", "caf\u00e9.org", "example.org\u0000"})
    void refusesInvalidTrustDomainsShowingTheEscapedText(String name) {
        assertThatThrownBy(() -> TrustDomain.of(name))
                .isInstanceOf(InvalidServiceIdentityException.class)
                .hasMessageContaining("is not a SPIFFE trust domain")
                .hasMessageNotContaining("\u0000");
    }

    @Test
    void refusesOverlongTrustDomains() {
        assertThatThrownBy(() -> TrustDomain.of("a".repeat(256)))
                .isInstanceOf(InvalidServiceIdentityException.class)
                .hasMessageContaining("255");
    }
}
