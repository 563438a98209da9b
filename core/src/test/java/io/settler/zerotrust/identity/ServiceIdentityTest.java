package io.settler.zerotrust.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ServiceIdentityTest {

    @Test
    void parsesTrustDomainPathAndServiceName() {
        ServiceIdentity id = ServiceIdentity.parse("spiffe://prod.example.org/ns/payments/api");

        assertThat(id.trustDomain()).isEqualTo(TrustDomain.of("prod.example.org"));
        assertThat(id.path()).isEqualTo("ns/payments/api");
        assertThat(id.serviceName()).isEqualTo("api");
        assertThat(id).hasToString("spiffe://prod.example.org/ns/payments/api");
        assertThat(id.toUri().getScheme()).isEqualTo("spiffe");
    }

    @Test
    void ofAcceptsPathWithOrWithoutLeadingSlash() {
        assertThat(ServiceIdentity.of("example.org", "/api")).isEqualTo(ServiceIdentity.of("example.org", "api"));
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "https://example.org/api",          // wrong scheme
        "SPIFFE://example.org/api",         // scheme must be lower case
        "spiffe://Example.org/api",         // upper-case trust domain
        "spiffe://example.org:8443/api",    // port
        "spiffe://user@example.org/api",    // user info
        "spiffe://example.org",             // no path
        "spiffe://example.org/",            // empty path
        "spiffe:///api",                    // empty trust domain
        "spiffe://example.org//api",        // empty segment
        "spiffe://example.org/api/",        // trailing slash
        "spiffe://example.org/./api",       // dot segment
        "spiffe://example.org/../api",      // dot-dot segment
        "spiffe://example.org/api?x=1",     // query
        "spiffe://example.org/api#frag",    // fragment
        "spiffe://example.org/a%2Fb",       // percent-encoding
        "spiffe://example.org/caf\u00e9",   // non-ASCII
        "spiffe://example.org/api\u0000",   // NUL
    })
    void refusesMalformedSpiffeIds(String text) {
        assertThatThrownBy(() -> ServiceIdentity.parse(text))
                .isInstanceOf(InvalidServiceIdentityException.class)
                .hasMessageNotContaining("null");
    }

    @Test
    void refusesOverlongIds() {
        String longPath = "a".repeat(2040);
        assertThatThrownBy(() -> ServiceIdentity.of("example.org", longPath))
                .isInstanceOf(InvalidServiceIdentityException.class)
                .hasMessageContaining("2048");
    }

    @Test
    void showsTheRefusedValueEscaped() {
        assertThatThrownBy(() -> ServiceIdentity.parse("spiffe://example.org/api?x=1"))
                .isInstanceOf(InvalidServiceIdentityException.class)
                .hasMessageStartingWith("'spiffe://example.org/api?x=1' is not a SPIFFE ID: ")
                .hasMessageContaining("found '?'");
        assertThatThrownBy(() -> ServiceIdentity.of("example.org", "../etc"))
                .hasMessageStartingWith("'spiffe://example.org/../etc' is not a SPIFFE ID: ");
        assertThatThrownBy(() -> ServiceIdentity.parse("spiffe://example.org/a\nforged: line"))
                .hasMessageStartingWith("'spiffe://example.org/a\\u000aforged: line' is not a SPIFFE ID: ")
                .hasMessageNotContaining("\n");
    }

    @Test
    void tellsAMistypedSchemeItMustStartWithSpiffeSlashSlash() {
        assertThatThrownBy(() -> ServiceIdentity.parse("spiffe:/example.org/api"))
                .isInstanceOf(InvalidServiceIdentityException.class)
                .hasMessage("'spiffe:/example.org/api' is not a SPIFFE ID: it must start with spiffe:// (lower case),"
                        + " e.g. spiffe://example.org/api");
    }
}
