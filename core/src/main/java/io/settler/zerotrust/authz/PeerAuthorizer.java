package io.settler.zerotrust.authz;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * Decides which authenticated peers may connect: an allow-list of {@link PeerRule}s, any one of
 * which admits a peer. It only ever sees peers whose certificate chain has already been verified.
 *
 * <pre>{@code
 * PeerAuthorizer authorizer = PeerAuthorizer.builder()
 *     .allow(PeerRule.identity("spiffe://example.org/api"))
 *     .allow(PeerRule.allOf(PeerRule.pathPrefix("example.org", "jobs"), PeerRule.fromNetworks("10.1.0.0/16")))
 *     .build();
 * }</pre>
 *
 * <p>Fails closed: an empty allow-list, or a top-level rule that admits any identity (a network
 * rule alone), is refused at build time; admitting every authenticated peer takes the explicitly
 * named {@link Builder#insecureAllowAnyAuthenticatedPeer()}. Immutable and thread-safe.
 */
public final class PeerAuthorizer {

    private final List<PeerRule> rules;

    private PeerAuthorizer(List<PeerRule> rules) {
        this.rules = List.copyOf(rules);
    }

    /** Starts an allow-list. */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Decides whether the peer may connect.
     *
     * @param peer the verified identity and remote address
     * @return allowed with the first matching rule, or refused with the reason
     */
    public AuthorizationDecision authorize(Peer peer) {
        Objects.requireNonNull(peer, "peer");
        for (PeerRule rule : rules) {
            if (rule.matches(peer)) {
                return new AuthorizationDecision(true, Optional.of(rule.describe()), "allowed by " + rule.describe());
            }
        }
        String who = peer.identity().map(Object::toString).orElse("a peer without a service identity");
        String from = peer.address().map(a -> " from " + a.getHostAddress()).orElse("");
        return new AuthorizationDecision(false, Optional.empty(), who + from + " matches no rule of the allow-list");
    }

    /**
     * Whether some rule admits peers only from certain networks, so a decision needs the peer's
     * address.
     */
    public boolean checksNetworks() {
        return rules.stream().anyMatch(PeerAuthorizer::hasNetworks);
    }

    /**
     * This allow-list with every network condition taken as met: for the handshake of a server
     * whose TLS stack does not tell it the peer's address (Tomcat creates its engines without
     * one, and every network rule would refuse). It admits each identity some rule admits from
     * some address; the server must then decide each request with the full allow-list and the
     * request's address ({@link #authorize}). Without network conditions it is this allow-list.
     *
     * @return the allow-list for the handshake
     */
    public PeerAuthorizer deferringNetworks() {
        return checksNetworks() ? new PeerAuthorizer(rules.stream().map(PeerAuthorizer::deferringNetworks).toList())
                : this;
    }

    private static boolean hasNetworks(PeerRule rule) {
        if (rule instanceof PeerRule.Networks) {
            return true;
        }
        if (rule instanceof PeerRule.AnyOf any) {
            return any.rules().stream().anyMatch(PeerAuthorizer::hasNetworks);
        }
        return rule instanceof PeerRule.AllOf all && all.rules().stream().anyMatch(PeerAuthorizer::hasNetworks);
    }

    private static PeerRule deferringNetworks(PeerRule rule) {
        if (rule instanceof PeerRule.Networks networks) {
            return new PeerRule.NetworksDeferred(networks);
        }
        if (rule instanceof PeerRule.AnyOf any) {
            return new PeerRule.AnyOf(any.rules().stream().map(PeerAuthorizer::deferringNetworks).toList());
        }
        if (rule instanceof PeerRule.AllOf all) {
            return new PeerRule.AllOf(all.rules().stream().map(PeerAuthorizer::deferringNetworks).toList());
        }
        return rule;
    }

    /** The rules, in the order they are tried. */
    public List<PeerRule> rules() {
        return rules;
    }

    /** A one-line summary of the allow-list for the start-up posture line. */
    public String summary() {
        return rules.stream().map(PeerRule::describe).collect(Collectors.joining(" | "));
    }

    @Override
    public String toString() {
        return "PeerAuthorizer[" + summary() + "]";
    }

    /** Builds a {@link PeerAuthorizer}. */
    public static final class Builder {
        private final List<PeerRule> rules = new ArrayList<>();

        private Builder() {
        }

        /**
         * Adds a rule that admits peers on its own.
         *
         * @throws IllegalArgumentException if the rule admits any identity (e.g. a network rule
         *     alone): combine it with an identity rule through {@link PeerRule#allOf}
         */
        public Builder allow(PeerRule rule) {
            Objects.requireNonNull(rule, "rule");
            if (!rule.constrainsIdentity()) {
                throw new IllegalArgumentException("the rule " + rule.describe() + " admits any authenticated identity;"
                        + " combine it with an identity rule, e.g. PeerRule.allOf(PeerRule.trustDomain(...), rule),"
                        + " or, if you really mean it, use insecureAllowAnyAuthenticatedPeer()");
            }
            rules.add(rule);
            return this;
        }

        /** Adds exact identities, e.g. {@code spiffe://example.org/api}. */
        public Builder allowIdentities(String... spiffeIds) {
            for (String id : spiffeIds) {
                allow(PeerRule.identity(id));
            }
            return this;
        }

        /**
         * Admits every peer whose certificate chains to the trust bundle, whatever its identity.
         * Named to stand out in review: in a zero-trust deployment this is almost never right.
         */
        public Builder insecureAllowAnyAuthenticatedPeer() {
            rules.add(new PeerRule.AnyAuthenticatedPeer());
            return this;
        }

        /**
         * The authorizer.
         *
         * @throws IllegalStateException if the allow-list is empty: it would refuse everyone, which
         *     is never what a service that accepts connections means
         */
        public PeerAuthorizer build() {
            if (rules.isEmpty()) {
                throw new IllegalStateException("the allow-list is empty: add the identities that may connect"
                        + " with allow(...) or allowIdentities(...)");
            }
            return new PeerAuthorizer(rules);
        }
    }
}
