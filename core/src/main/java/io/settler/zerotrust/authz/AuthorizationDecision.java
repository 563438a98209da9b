package io.settler.zerotrust.authz;

import java.util.Objects;
import java.util.Optional;

/**
 * The outcome of {@link PeerAuthorizer#authorize(Peer)}.
 *
 * @param allowed whether the peer may proceed
 * @param matchedRule the description of the rule that allowed it, empty when refused
 * @param reason why, in words fit for an audit event (no secrets: identities and addresses only)
 */
public record AuthorizationDecision(boolean allowed, Optional<String> matchedRule, String reason) {

    /** Checks for nulls and that an allowed decision names its rule. */
    public AuthorizationDecision {
        Objects.requireNonNull(matchedRule, "matchedRule");
        Objects.requireNonNull(reason, "reason");
        if (allowed && matchedRule.isEmpty()) {
            throw new IllegalArgumentException("an allowed decision names the rule that allowed it");
        }
    }
}
