package io.settler.zerotrust.authz;

import io.settler.zerotrust.identity.ServiceIdentity;
import io.settler.zerotrust.network.Cidr;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
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

    /** Any identity in the trust domain, e.g. {@code example.org}. */
    static PeerRule trustDomain(String trustDomain) {
        return new TrustDomain(ServiceIdentity.of(trustDomain, "x").trustDomain());
    }

    /**
     * Identities in the trust domain whose path is {@code prefix} or lies below it, on segment
     * boundaries: prefix {@code jobs} matches {@code jobs} and {@code jobs/worker} but never
     * {@code jobsx}.
     */
    static PeerRule pathPrefix(String trustDomain, String prefix) {
        return new PathPrefix(ServiceIdentity.of(trustDomain, prefix));
    }

    /** Peers whose address lies in one of the networks (IPv4 or IPv6 CIDR); combine with an identity rule. */
    static PeerRule fromNetworks(String... cidrs) {
        if (cidrs.length == 0) {
            throw new IllegalArgumentException("fromNetworks needs at least one network");
        }
        return new Networks(Arrays.stream(cidrs).map(Cidr::parse).toList());
    }

    /** Satisfied when any of the rules is. */
    static PeerRule anyOf(PeerRule... rules) {
        return new AnyOf(nonEmpty(rules, "anyOf"));
    }

    /** Satisfied when all of the rules are. */
    static PeerRule allOf(PeerRule... rules) {
        return new AllOf(nonEmpty(rules, "allOf"));
    }

    private static List<PeerRule> nonEmpty(PeerRule[] rules, String name) {
        if (rules.length == 0) {
            throw new IllegalArgumentException(name + " needs at least one rule");
        }
        return Arrays.stream(rules).map(r -> Objects.requireNonNull(r, "rule")).toList();
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

    /** Every identity of a trust domain. */
    record TrustDomain(String trustDomain) implements PeerRule {
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
        /** Copies the list. */
        public Networks {
            networks = List.copyOf(networks);
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

    /** Any of several rules. */
    record AnyOf(List<PeerRule> rules) implements PeerRule {
        /** Copies the list. */
        public AnyOf {
            rules = List.copyOf(rules);
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
        /** Copies the list. */
        public AllOf {
            rules = List.copyOf(rules);
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
