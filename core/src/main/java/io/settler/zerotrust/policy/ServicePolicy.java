package io.settler.zerotrust.policy;

import io.settler.zerotrust.audit.LogSafe;
import io.settler.zerotrust.authz.PeerRule;
import io.settler.zerotrust.identity.ServiceIdentity;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * What one service is and may do: its identity, the scopes it may hold in service tokens, and the
 * peers it accepts connections from (each rule possibly limited to source networks).
 *
 * @param name the service's name in the policy, e.g. {@code api}
 * @param identity its SPIFFE identity
 * @param scopes the scopes it may ask for, e.g. {@code db:read}, {@code queue:jobs:publish}
 * @param accepts who may connect to it; empty when it accepts no connections
 */
public record ServicePolicy(String name, ServiceIdentity identity, SortedSet<String> scopes, List<PeerRule> accepts) {

    private static final Pattern NAME = Pattern.compile("[a-z][a-z0-9_-]{0,62}");
    private static final Pattern SCOPE = Pattern.compile("[a-z0-9_-]+(:[a-z0-9_.-]+)*");

    /**
     * Validates the name (see {@link ReservedNames} for the names refused) and the scopes; copies the
     * collections.
     */
    public ServicePolicy {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(identity, "identity");
        if (!NAME.matcher(name).matches()) {
            throw new PolicyException(PolicyException.Reason.INVALID_VALUE, "service name '" + LogSafe.text(name)
                    + "' must be lower case letters, digits, '-' or '_', starting with a letter (at most 63)");
        }
        ReservedNames.reason(name).ifPresent(why -> {
            throw new PolicyException(PolicyException.Reason.RESERVED_NAME, "service name '" + name + "' is " + why
                    + "; the service becomes a database role and a Redis user of that name, so choose another");
        });
        for (String scope : scopes) {
            checkScope(scope, "service " + name);
        }
        scopes = java.util.Collections.unmodifiableSortedSet(new TreeSet<>(scopes));
        accepts = List.copyOf(accepts);
    }

    /** Whether the service may hold {@code scope} (exact match: there are no wildcard scopes). */
    public boolean mayHold(String scope) {
        return scopes.contains(scope);
    }

    /** Whether the service may hold every one of {@code requested}. */
    public boolean mayHoldAll(Set<String> requested) {
        return scopes.containsAll(requested);
    }

    static void checkScope(String scope, String where) {
        if (scope == null || !SCOPE.matcher(scope).matches() || scope.length() > 128) {
            throw new PolicyException(PolicyException.Reason.INVALID_VALUE, where + ": scope '" + scope
                    + "' must be lower-case words separated by ':' (e.g. queue:jobs:publish), at most 128 characters;"
                    + " wildcards are not allowed");
        }
    }
}
