package io.settler.zerotrust.authz;

import io.settler.zerotrust.identity.ServiceIdentity;
import io.settler.zerotrust.network.Cidr;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;

/**
 * One rule of a {@link PeerAuthorizer}'s allow-list. Rules compose: {@link #anyOf}, {@link #allOf}.
 *
 * <pre>{@code
 * PeerRule.allOf(PeerRule.pathPrefix("example.org", "jobs"), PeerRule.fromNetworks("10.1.0.0/16"))
 * }</pre>
 */
public sealed interface PeerRule {

    /** Whether the peer satisfies this rule. */
    boolean matches(Peer peer);

    /**
     * Whether this rule can only be satisfied by particular identities; a rule that admits any
     * identity (a network rule alone) is refused at the top of an allow-list.
     */
    boolean constrainsIdentity();

    /** A short, stable description for audit events and the start-up posture line. */
    String describe();

    /** Exactly this identity, e.g. {@code spiffe://example.org/api}. */
    static PeerRule identity(String spiffeId) {
        return new Exact(ServiceIdentity.parse(spiffeId));
    }

    /** Exactly this identity. */
    static PeerRule identity(ServiceIdentity identity) {
        return new Exact(identity);
    }

    /** Any identity in the trust domain. */
    static PeerRule trustDomain(io.settler.zerotrust.identity.TrustDomain trustDomain) {
        return new TrustDomain(trustDomain);
    }

    /**
     * Any identity in the trust domain given as text, e.g. {@code example.org} read from
     * configuration; see {@link #trustDomain(io.settler.zerotrust.identity.TrustDomain)}.
     *
     * @throws io.settler.zerotrust.identity.InvalidServiceIdentityException if it is not a SPIFFE
     *     trust domain
     */
    static PeerRule trustDomain(String trustDomain) {
        return trustDomain(io.settler.zerotrust.identity.TrustDomain.of(trustDomain));
    }

    /**
     * Identities in the trust domain whose path is {@code prefix} or lies below it, on segment
     * boundaries: prefix {@code jobs} matches {@code jobs} and {@code jobs/worker} but never
     * {@code jobsx}.
     *
     * @throws io.settler.zerotrust.identity.InvalidServiceIdentityException if the prefix breaks
     *     the SPIFFE path rules
     */
    static PeerRule pathPrefix(io.settler.zerotrust.identity.TrustDomain trustDomain, String prefix) {
        return new PathPrefix(ServiceIdentity.of(trustDomain, prefix));
    }

    /**
     * {@link #pathPrefix(io.settler.zerotrust.identity.TrustDomain, String)} with the trust domain
     * given as text, e.g. read from configuration.
     *
     * @throws io.settler.zerotrust.identity.InvalidServiceIdentityException if either part breaks
     *     the SPIFFE ID rules
     */
    static PeerRule pathPrefix(String trustDomain, String prefix) {
        return new PathPrefix(ServiceIdentity.of(trustDomain, prefix));
    }

    /**
     * Peers whose address lies in one of the networks (IPv4 or IPv6 CIDR); combine with an identity rule.
     *
     * @throws IllegalArgumentException if a network is not valid CIDR, or none is given: no list of
     *     networks, anyOf or allOf may be empty (an empty list never means "any")
     */
    static PeerRule fromNetworks(String... cidrs) {
        return new Networks(Arrays.stream(cidrs).map(Cidr::parse).toList());
    }

    /** Satisfied when any of the rules is. */
    static PeerRule anyOf(PeerRule... rules) {
        return new AnyOf(Arrays.asList(rules));
    }

    /** Satisfied when all of the rules are. */
    static PeerRule allOf(PeerRule... rules) {
        return new AllOf(Arrays.asList(rules));
    }

    /**
     * A copy of a rule's list, which may not be empty: an empty list (a template that rendered
     * nothing) would mean no networks or no rules, and an empty {@code allOf} matches every peer.
     */
    private static <T> List<T> nonEmpty(List<T> items, String what, String instead) {
        List<T> copy = List.copyOf(items);
        if (copy.isEmpty()) {
            throw new IllegalArgumentException(what + " is empty; an empty list never means \"any\": " + instead);
        }
        return copy;
    }

    /** Exactly one identity. */
    record Exact(ServiceIdentity identity) implements PeerRule {
        @Override
        public boolean matches(Peer peer) {
            return peer.identity().filter(identity::equals).isPresent();
        }

        @Override
        public boolean constrainsIdentity() {
            return true;
        }

        @Override
        public String describe() {
            return "identity=" + identity;
        }
    }

    /**
     * Every identity of a trust domain.
     *
     * @param trustDomain the trust domain, validated, so the rule cannot name an invalid one
     */
    record TrustDomain(io.settler.zerotrust.identity.TrustDomain trustDomain) implements PeerRule {
        @Override
        public boolean matches(Peer peer) {
            return peer.identity().filter(id -> id.trustDomain().equals(trustDomain)).isPresent();
        }

        @Override
        public boolean constrainsIdentity() {
            return true;
        }

        @Override
        public String describe() {
            return "trust-domain=" + trustDomain;
        }
    }

    /** Identities at or below a path. */
    record PathPrefix(ServiceIdentity prefix) implements PeerRule {
        @Override
        public boolean matches(Peer peer) {
            return peer.identity().filter(id -> id.trustDomain().equals(prefix.trustDomain())
                    && (id.path().equals(prefix.path()) || id.path().startsWith(prefix.path() + "/"))).isPresent();
        }

        @Override
        public boolean constrainsIdentity() {
            return true;
        }

        @Override
        public String describe() {
            return "path-prefix=" + prefix;
        }
    }

    /** Source networks. */
    record Networks(List<Cidr> networks) implements PeerRule {
        /** Copies the list; refuses an empty one. */
        public Networks {
            networks = nonEmpty(networks, "the list of networks", "name at least one network, or leave the"
                    + " network rule out (write 0.0.0.0/0 and ::/0 if every address is really meant)");
        }

        @Override
        public boolean matches(Peer peer) {
            return peer.address().filter(a -> networks.stream().anyMatch(n -> n.contains(a))).isPresent();
        }

        @Override
        public boolean constrainsIdentity() {
            return false;
        }

        @Override
        public String describe() {
            return "networks=" + networks.stream().map(Cidr::toString).collect(Collectors.joining(",", "[", "]"));
        }
    }

    /**
     * A network condition left to each request: met by every peer here, in the handshake of a
     * server that cannot see the peer's address ({@link PeerAuthorizer#deferringNetworks()}).
     *
     * @param networks the condition the server checks on each request
     */
    record NetworksDeferred(Networks networks) implements PeerRule {
        @Override
        public boolean matches(Peer peer) {
            return true;
        }

        @Override
        public boolean constrainsIdentity() {
            return false;
        }

        @Override
        public String describe() {
            return networks.describe() + " (checked on each request)";
        }
    }

    /** Any of several rules. */
    record AnyOf(List<PeerRule> rules) implements PeerRule {
        /** Copies the list; refuses an empty one. */
        public AnyOf {
            rules = nonEmpty(rules, "anyOf's list of rules", "give it at least one rule");
        }

        @Override
        public boolean matches(Peer peer) {
            return rules.stream().anyMatch(r -> r.matches(peer));
        }

        @Override
        public boolean constrainsIdentity() {
            return rules.stream().allMatch(PeerRule::constrainsIdentity);
        }

        @Override
        public String describe() {
            return rules.stream().map(PeerRule::describe).collect(Collectors.joining(" | ", "any(", ")"));
        }
    }

    /** All of several rules. */
    record AllOf(List<PeerRule> rules) implements PeerRule {
        /** Copies the list; refuses an empty one, which would match every peer. */
        public AllOf {
            rules = nonEmpty(rules, "allOf's list of rules", "give it at least one rule");
        }

        @Override
        public boolean matches(Peer peer) {
            return rules.stream().allMatch(r -> r.matches(peer));
        }

        @Override
        public boolean constrainsIdentity() {
            return rules.stream().anyMatch(PeerRule::constrainsIdentity);
        }

        @Override
        public String describe() {
            return rules.stream().map(PeerRule::describe).collect(Collectors.joining(" & ", "all(", ")"));
        }
    }

    /** Any authenticated peer: only through {@link PeerAuthorizer.Builder#insecureAllowAnyAuthenticatedPeer()}. */
    record AnyAuthenticatedPeer() implements PeerRule {
        @Override
        public boolean matches(Peer peer) {
            return true;
        }

        @Override
        public boolean constrainsIdentity() {
            return false;
        }

        @Override
        public String describe() {
            return "INSECURE-any-authenticated-peer";
        }
    }
}
