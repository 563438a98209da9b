package io.settler.zerotrust.policy;

import io.settler.zerotrust.authz.PeerAuthorizer;
import io.settler.zerotrust.authz.PeerRule;
import io.settler.zerotrust.identity.InvalidServiceIdentityException;
import io.settler.zerotrust.identity.ServiceIdentity;
import io.settler.zerotrust.identity.TrustDomain;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.function.Consumer;

/**
 * Who may do what, in one place: the services of a trust domain, the scopes each may hold, and the
 * peers each accepts and from which networks. The same policy drives the in-process authorizer
 * ({@link #authorizerFor(String)}), what a token minter may mint ({@link ServicePolicy#mayHold}),
 * and the server-side configuration later modules render from it.
 *
 * <pre>{@code
 * Policy policy = Policy.builder("example.org")
 *     .service("api", api -> api.scopes("db:read", "db:write", "queue:jobs:publish")
 *         .acceptService("gateway", "10.0.0.0/8"))
 *     .service("worker", worker -> worker.scopes("queue:jobs:consume", "webhook:send"))
 *     .service("gateway", gateway -> { })
 *     .build();
 * Policy fromFile = Policy.fromJson(Path.of("policy.json"));
 * }</pre>
 *
 * <p>The JSON form ({@link #fromJson(Path)}); unknown fields are refused, so a typo cannot
 * silently drop a rule:
 * <pre>{@code
 * {
 *   "trustDomain": "example.org",
 *   "services": {
 *     "api": {
 *       "path": "ns/prod/api",                       // optional; default: the service name
 *       "scopes": ["db:read", "db:write", "queue:jobs:publish"],
 *       "accepts": [
 *         {"service": "gateway", "networks": ["10.0.0.0/8", "fd00::/8"]},
 *         {"identity": "spiffe://partner.example/billing"},
 *         {"pathPrefix": "jobs"},                    // spiffe://example.org/jobs and below
 *         {"trustDomain": "example.org"}
 *       ]
 *     },
 *     "gateway": {}
 *   }
 * }
 * }</pre>
 * Each {@code accepts} entry names exactly one of {@code service}, {@code identity},
 * {@code pathPrefix} or {@code trustDomain}, optionally limited to {@code networks}. A
 * {@code networks} key must list at least one network: {@code "networks": []} (a template that
 * rendered nothing) is refused ({@code EMPTY_LIST}), never read as "from any address".
 *
 * <p>Immutable and thread-safe.
 */
public final class Policy {

    private final TrustDomain trustDomain;
    private final Map<String, ServicePolicy> services;
    private final Map<ServiceIdentity, ServicePolicy> byIdentity;

    private Policy(TrustDomain trustDomain, Map<String, ServicePolicy> services) {
        this.trustDomain = trustDomain;
        this.services = Collections.unmodifiableMap(new LinkedHashMap<>(services));
        Map<ServiceIdentity, ServicePolicy> identities = new HashMap<>();
        for (ServicePolicy service : services.values()) {
            ServicePolicy clash = identities.put(service.identity(), service);
            if (clash != null) {
                throw new PolicyException(PolicyException.Reason.DUPLICATE_SERVICE, "services '" + clash.name()
                        + "' and '" + service.name() + "' share the identity " + service.identity());
            }
        }
        this.byIdentity = Map.copyOf(identities);
    }

    /** Starts a policy for a trust domain. */
    public static Builder builder(TrustDomain trustDomain) {
        return new Builder(Objects.requireNonNull(trustDomain, "trustDomain"));
    }

    /**
     * Starts a policy for a trust domain given as text, e.g. {@code example.org} read from
     * configuration.
     *
     * @throws PolicyException ({@code INVALID_VALUE}) if it is not a SPIFFE trust domain
     */
    public static Builder builder(String trustDomain) {
        try {
            return builder(TrustDomain.of(Objects.requireNonNull(trustDomain, "trustDomain")));
        } catch (InvalidServiceIdentityException e) {
            throw new PolicyException(PolicyException.Reason.INVALID_VALUE, "trust domain: " + e.getMessage(), e);
        }
    }

    /**
     * Loads a policy from a JSON file (the format is in the class description).
     *
     * @throws PolicyException naming the file and the JSON path of the first problem
     */
    public static Policy fromJson(Path file) {
        return PolicyJson.read(file);
    }

    /**
     * Parses a policy from JSON text.
     *
     * @throws PolicyException naming the JSON path of the first problem
     */
    public static Policy fromJson(String json) {
        return PolicyJson.parse(json, "the policy");
    }

    /** The trust domain every service belongs to. */
    public TrustDomain trustDomain() {
        return trustDomain;
    }

    /** Every service, in the order they were defined. */
    public List<ServicePolicy> services() {
        return List.copyOf(services.values());
    }

    /** The service of that name. */
    public Optional<ServicePolicy> service(String name) {
        return Optional.ofNullable(services.get(name));
    }

    /** The service with that identity, e.g. to look up a verified peer's scopes. */
    public Optional<ServicePolicy> service(ServiceIdentity identity) {
        return Optional.ofNullable(byIdentity.get(identity));
    }

    /**
     * The authorizer for connections to {@code serviceName}: exactly the peers its policy accepts.
     *
     * @throws PolicyException if there is no such service, or it accepts no peers (it takes no
     *     connections, so it must not be given a server context)
     */
    public PeerAuthorizer authorizerFor(String serviceName) {
        ServicePolicy service = services.get(serviceName);
        if (service == null) {
            throw new PolicyException(PolicyException.Reason.UNKNOWN_SERVICE, "the policy has no service '"
                    + serviceName + "'; it defines " + services.keySet());
        }
        if (service.accepts().isEmpty()) {
            throw new PolicyException(PolicyException.Reason.MISSING_FIELD, "service '" + serviceName
                    + "' accepts no peers in the policy; add an 'accepts' rule for each caller");
        }
        PeerAuthorizer.Builder authorizer = PeerAuthorizer.builder();
        service.accepts().forEach(authorizer::allow);
        return authorizer.build();
    }

    @Override
    public String toString() {
        return "Policy[" + trustDomain + ", services=" + services.keySet() + "]";
    }

    /** Builds a {@link Policy}; services may name each other in any order. Not thread-safe. */
    public static final class Builder {
        private final TrustDomain trustDomain;
        private final Map<String, ServiceBuilder> services = new LinkedHashMap<>();

        private Builder(TrustDomain trustDomain) {
            this.trustDomain = trustDomain;
        }

        /**
         * Defines a service whose identity is {@code spiffe://<trust-domain>/<name>}.
         *
         * @param name the service name, e.g. {@code api}
         * @param definition sets its scopes and accepted peers
         */
        public Builder service(String name, Consumer<ServiceBuilder> definition) {
            return service(name, name, definition);
        }

        /**
         * Defines a service with an explicit SPIFFE path, e.g. {@code ns/prod/api}.
         *
         * @throws PolicyException if a service of that name already exists
         */
        public Builder service(String name, String spiffePath, Consumer<ServiceBuilder> definition) {
            Objects.requireNonNull(definition, "definition");
            if (services.containsKey(name)) {
                throw new PolicyException(PolicyException.Reason.DUPLICATE_SERVICE, "service '" + name
                        + "' is defined twice");
            }
            ServiceIdentity identity;
            try {
                identity = ServiceIdentity.of(trustDomain, spiffePath);
            } catch (InvalidServiceIdentityException e) {
                throw new PolicyException(PolicyException.Reason.INVALID_VALUE, "service '" + name + "': "
                        + e.getMessage(), e);
            }
            ServiceBuilder service = new ServiceBuilder(name, identity);
            definition.accept(service);
            services.put(name, service);
            return this;
        }

        /**
         * Resolves references between services and builds the policy.
         *
         * @throws PolicyException if a rule names an unknown service or two services share an identity
         */
        public Policy build() {
            Map<String, ServiceIdentity> identities = new LinkedHashMap<>();
            services.forEach((name, service) -> identities.put(name, service.identity));
            Map<String, ServicePolicy> built = new LinkedHashMap<>();
            services.forEach((name, service) -> built.put(name, service.build(identities)));
            return new Policy(trustDomain, built);
        }
    }

    /** Defines one service of a {@link Policy}. */
    public static final class ServiceBuilder {
        private final String name;
        private final ServiceIdentity identity;
        private final SortedSet<String> scopes = new TreeSet<>();
        private final List<PendingRule> accepts = new ArrayList<>();

        /** A rule that may name services defined later. */
        private interface PendingRule {
            PeerRule resolve(Map<String, ServiceIdentity> identities);
        }

        private ServiceBuilder(String name, ServiceIdentity identity) {
            this.name = name;
            this.identity = identity;
        }

        /** The trust domain of the policy this service belongs to. */
        public TrustDomain trustDomain() {
            return identity.trustDomain();
        }

        /** Scopes this service may hold, e.g. {@code db:read}. */
        public ServiceBuilder scopes(String... scopes) {
            for (String scope : scopes) {
                ServicePolicy.checkScope(scope, "service '" + name + "'");
                this.scopes.add(scope);
            }
            return this;
        }

        /** Accepts connections from another service of the policy, from any address. */
        public ServiceBuilder acceptService(String serviceName) {
            return acceptService(serviceName, Optional.empty());
        }

        /** Accepts connections from another service of the policy, only from these networks (CIDR). */
        public ServiceBuilder acceptService(String serviceName, String network, String... moreNetworks) {
            List<String> networks = new ArrayList<>(1 + moreNetworks.length);
            networks.add(network);
            networks.addAll(List.of(moreNetworks));
            return acceptService(serviceName, networks);
        }

        /**
         * Accepts connections from another service of the policy, only from these networks (CIDR),
         * e.g. a list read from configuration.
         *
         * @throws PolicyException ({@code EMPTY_LIST}) if the list is empty: an empty list never
         *     means "any network"; call {@link #acceptService(String)} for that
         */
        public ServiceBuilder acceptService(String serviceName, List<String> networks) {
            Objects.requireNonNull(networks, "networks");
            if (networks.isEmpty()) {
                throw emptyNetworks("accepting '" + serviceName + "'",
                        "call acceptService(\"" + serviceName + "\")");
            }
            return acceptService(serviceName, Optional.of(List.copyOf(networks)));
        }

        private ServiceBuilder acceptService(String serviceName, Optional<List<String>> networks) {
            Objects.requireNonNull(serviceName, "serviceName");
            accepts.add(identities -> {
                ServiceIdentity peer = identities.get(serviceName);
                if (peer == null) {
                    throw new PolicyException(PolicyException.Reason.UNKNOWN_SERVICE, "service '" + name
                            + "' accepts '" + serviceName + "', which the policy does not define; defined: "
                            + identities.keySet());
                }
                return networks.map(cidrs -> withNetworks(PeerRule.identity(peer), cidrs))
                        .orElseGet(() -> PeerRule.identity(peer));
            });
            return this;
        }

        /** Accepts connections matching any {@link PeerRule}, e.g. a whole trust domain or a path prefix. */
        public ServiceBuilder accept(PeerRule rule) {
            Objects.requireNonNull(rule, "rule");
            accepts.add(identities -> rule);
            return this;
        }

        private PeerRule withNetworks(PeerRule rule, List<String> networks) {
            try {
                return PeerRule.allOf(rule, PeerRule.fromNetworks(networks.toArray(String[]::new)));
            } catch (IllegalArgumentException e) {
                throw new PolicyException(PolicyException.Reason.INVALID_VALUE, "service '" + name + "': "
                        + e.getMessage(), e);
            }
        }

        /**
         * The refusal of an empty list of networks: a template that rendered no networks must not
         * widen a rule to every address.
         *
         * @param where what the list limits, e.g. {@code accepting 'gateway'}
         * @param instead how to say "from any address" if that is meant, e.g. {@code call acceptService("gateway")}
         */
        PolicyException emptyNetworks(String where, String instead) {
            return new PolicyException(PolicyException.Reason.EMPTY_LIST, "service '" + name + "', " + where
                    + ": the list of networks is empty, and an empty list never means any network; list the"
                    + " networks, or, if every address is really meant, " + instead + " or list 0.0.0.0/0 and ::/0"
                    + " explicitly");
        }

        private ServicePolicy build(Map<String, ServiceIdentity> identities) {
            List<PeerRule> rules = new ArrayList<>();
            for (PendingRule pending : accepts) {
                PeerRule rule = pending.resolve(identities);
                if (!rule.constrainsIdentity()) {
                    throw new PolicyException(PolicyException.Reason.INVALID_VALUE, "service '" + name
                            + "': the rule " + rule.describe() + " admits any identity; combine networks with an"
                            + " identity, trust domain or path prefix");
                }
                rules.add(rule);
            }
            return new ServicePolicy(name, identity, scopes, rules);
        }
    }
}
