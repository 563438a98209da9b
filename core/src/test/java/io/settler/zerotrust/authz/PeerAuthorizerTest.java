package io.settler.zerotrust.authz;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.settler.zerotrust.identity.InvalidServiceIdentityException;
import io.settler.zerotrust.identity.ServiceIdentity;
import io.settler.zerotrust.identity.TrustDomain;
import io.settler.zerotrust.network.IpAddressLiteral;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class PeerAuthorizerTest {

    private static Peer peer(String spiffeId, String address) {
        return Peer.of(ServiceIdentity.parse(spiffeId), IpAddressLiteral.parse(address));
    }

    @Test
    void allowsExactIdentityAndNamesTheRule() {
        PeerAuthorizer authorizer = PeerAuthorizer.builder().allowIdentities("spiffe://example.org/api").build();

        AuthorizationDecision decision = authorizer.authorize(peer("spiffe://example.org/api", "127.0.0.1"));

        assertThat(decision.allowed()).isTrue();
        assertThat(decision.matchedRule()).contains("identity=spiffe://example.org/api");
    }

    @Test
    void refusesIdentityNotOnTheAllowList() {
        PeerAuthorizer authorizer = PeerAuthorizer.builder().allowIdentities("spiffe://example.org/api").build();

        AuthorizationDecision decision = authorizer.authorize(peer("spiffe://example.org/worker", "127.0.0.1"));

        assertThat(decision.allowed()).isFalse();
        assertThat(decision.matchedRule()).isEmpty();
        assertThat(decision.reason()).contains("spiffe://example.org/worker", "127.0.0.1");
    }

    @Test
    void refusesSameIdentityFromAnotherTrustDomain() {
        PeerAuthorizer authorizer = PeerAuthorizer.builder().allow(PeerRule.trustDomain("example.org")).build();

        assertThat(authorizer.authorize(peer("spiffe://example.org/api", "127.0.0.1")).allowed()).isTrue();
        assertThat(authorizer.authorize(peer("spiffe://evil.example.org/api", "127.0.0.1")).allowed()).isFalse();
    }

    @Test
    void typedTrustDomainRuleIsTheTextOne() {
        PeerRule typed = PeerRule.trustDomain(TrustDomain.of("example.org"));
        PeerAuthorizer authorizer = PeerAuthorizer.builder().allow(typed).build();

        assertThat(typed).isEqualTo(PeerRule.trustDomain("example.org"));
        assertThat(typed.describe()).isEqualTo("trust-domain=example.org");
        assertThat(authorizer.authorize(peer("spiffe://example.org/api", "127.0.0.1")).allowed()).isTrue();
        assertThat(authorizer.authorize(peer("spiffe://evil.example.org/api", "127.0.0.1")).allowed()).isFalse();
        assertThatThrownBy(() -> PeerRule.trustDomain("Example.ORG"))
                .isInstanceOf(InvalidServiceIdentityException.class);
        assertThat(PeerRule.pathPrefix(TrustDomain.of("example.org"), "jobs"))
                .isEqualTo(PeerRule.pathPrefix("example.org", "jobs"));
    }

    @Test
    void pathPrefixMatchesOnSegmentBoundariesOnly() {
        PeerAuthorizer authorizer = PeerAuthorizer.builder().allow(PeerRule.pathPrefix("example.org", "jobs")).build();

        assertThat(authorizer.authorize(peer("spiffe://example.org/jobs", "127.0.0.1")).allowed()).isTrue();
        assertThat(authorizer.authorize(peer("spiffe://example.org/jobs/worker", "127.0.0.1")).allowed()).isTrue();
        assertThat(authorizer.authorize(peer("spiffe://example.org/jobsx", "127.0.0.1")).allowed()).isFalse();
        assertThat(authorizer.authorize(peer("spiffe://example.org/other/jobs", "127.0.0.1")).allowed()).isFalse();
    }

    @Test
    void refusesAllowedIdentityFromOutsideItsNetworks() {
        PeerAuthorizer authorizer = PeerAuthorizer.builder()
                .allow(PeerRule.allOf(PeerRule.identity("spiffe://example.org/api"),
                        PeerRule.fromNetworks("127.0.0.0/8", "::1/128")))
                .build();

        assertThat(authorizer.authorize(peer("spiffe://example.org/api", "127.0.0.1")).allowed()).isTrue();
        assertThat(authorizer.authorize(peer("spiffe://example.org/api", "::1")).allowed()).isTrue();
        assertThat(authorizer.authorize(peer("spiffe://example.org/api", "10.0.0.1")).allowed()).isFalse();
        assertThat(authorizer.authorize(Peer.of(ServiceIdentity.parse("spiffe://example.org/api"))).allowed())
                .as("unknown address fails closed").isFalse();
    }

    @Test
    void anyOfAdmitsEitherIdentity() {
        PeerAuthorizer authorizer = PeerAuthorizer.builder()
                .allow(PeerRule.anyOf(PeerRule.identity("spiffe://example.org/a"),
                        PeerRule.identity("spiffe://example.org/b")))
                .build();

        assertThat(authorizer.authorize(peer("spiffe://example.org/b", "127.0.0.1")).allowed()).isTrue();
        assertThat(authorizer.authorize(peer("spiffe://example.org/c", "127.0.0.1")).allowed()).isFalse();
    }

    @Test
    void refusesPeerWithoutServiceIdentity() {
        PeerAuthorizer authorizer = PeerAuthorizer.builder().allow(PeerRule.trustDomain("example.org")).build();

        assertThat(authorizer.authorize(new Peer(Optional.empty(), Optional.empty())).allowed()).isFalse();
    }

    @Test
    void refusesAnEmptyAllowListAtBuildTime() {
        assertThatThrownBy(() -> PeerAuthorizer.builder().build())
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("allow-list is empty");
    }

    @Test
    void refusesANetworkRuleThatAdmitsAnyIdentity() {
        assertThatThrownBy(() -> PeerAuthorizer.builder().allow(PeerRule.fromNetworks("10.0.0.0/8")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("insecureAllowAnyAuthenticatedPeer");
        assertThatThrownBy(() -> PeerAuthorizer.builder().allow(
                PeerRule.anyOf(PeerRule.identity("spiffe://example.org/a"), PeerRule.fromNetworks("10.0.0.0/8"))))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void emptyNetworkListNeverMeansAnyNetwork() {
        assertThatThrownBy(() -> new PeerRule.Networks(List.of()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("never means \"any\"")
                .hasMessageContaining("0.0.0.0/0");
        assertThatThrownBy(() -> PeerRule.fromNetworks(new String[0]))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("networks is empty");
    }

    @Test
    void emptyAllOfDoesNotDropTheNetworkLimit() {
        // allOf(identity, allOf(<network rules a template rendered, none>)) must not become the identity alone
        assertThatThrownBy(() -> PeerRule.allOf(PeerRule.identity("spiffe://example.org/a"),
                new PeerRule.AllOf(List.of())))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("allOf's list of rules is empty");
        assertThatThrownBy(() -> new PeerRule.AnyOf(List.of()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("anyOf's list of rules is empty");
        assertThatThrownBy(() -> PeerRule.allOf())
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void anyAuthenticatedPeerOnlyUnderItsLoudName() {
        PeerAuthorizer authorizer = PeerAuthorizer.builder().insecureAllowAnyAuthenticatedPeer().build();

        assertThat(authorizer.authorize(new Peer(Optional.empty(), Optional.empty())).allowed()).isTrue();
        assertThat(authorizer.summary()).contains("INSECURE");
    }

    @Test
    void deferringNetworksAdmitsInTheHandshakeOnlyIdentitiesSomeRuleAdmitsFromSomeAddress() {
        PeerAuthorizer full = PeerAuthorizer.builder()
                .allow(PeerRule.allOf(PeerRule.identity("spiffe://example.org/gateway"),
                        PeerRule.fromNetworks("10.0.0.0/8")))
                .allow(PeerRule.allOf(PeerRule.pathPrefix("example.org", "jobs"),
                        PeerRule.anyOf(PeerRule.fromNetworks("192.168.0.0/16"), PeerRule.fromNetworks("fd00::/8"))))
                .build();
        Peer gatewayWithoutAddress = Peer.of(ServiceIdentity.parse("spiffe://example.org/gateway"));

        assertThat(full.checksNetworks()).isTrue();
        assertThat(full.authorize(gatewayWithoutAddress).allowed()).as("no address, no network match").isFalse();

        PeerAuthorizer handshake = full.deferringNetworks();
        assertThat(handshake.checksNetworks()).isFalse();
        assertThat(handshake.authorize(gatewayWithoutAddress).allowed()).isTrue();
        assertThat(handshake.authorize(Peer.of(ServiceIdentity.parse("spiffe://example.org/jobs/worker")))
                .matchedRule()).contains("all(path-prefix=spiffe://example.org/jobs & any(networks=[192.168.0.0/16]"
                        + " (checked on each request) | networks=[fd00:0:0:0:0:0:0:0/8] (checked on each request)))");
        assertThat(handshake.authorize(Peer.of(ServiceIdentity.parse("spiffe://example.org/billing"))).allowed())
                .as("an identity no rule names").isFalse();
        assertThat(handshake.authorize(Peer.of(ServiceIdentity.parse("spiffe://other.org/gateway"))).allowed())
                .isFalse();

        assertThat(full.authorize(peer("spiffe://example.org/gateway", "10.1.2.3")).allowed()).isTrue();
        assertThat(full.authorize(peer("spiffe://example.org/gateway", "192.168.1.1")).allowed())
                .as("each request still gets the full rule").isFalse();
    }

    @Test
    void deferringNetworksOfAnAllowListWithoutNetworksIsTheSameAllowList() {
        PeerAuthorizer identities = PeerAuthorizer.builder().allowIdentities("spiffe://example.org/api").build();

        assertThat(identities.checksNetworks()).isFalse();
        assertThat(identities.deferringNetworks()).isSameAs(identities);
    }
}
