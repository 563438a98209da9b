package io.settler.zerotrust.token;

import static io.settler.zerotrust.audit.AuditEvent.Outcome.INFO;
import static io.settler.zerotrust.audit.AuditEvent.Outcome.REFUSED;
import static io.settler.zerotrust.audit.AuditEvent.Outcome.WARNING;

import io.settler.zerotrust.audit.AuditAction;

/**
 * Compile shim only, so that modules depending on service-token build on a branch where it is not
 * converted yet: the service-token conversion (its own TokenAudit) replaces this file at merge.
 */
@SuppressWarnings("ImmutableEnumChecker") // Definition is a record of strings and List.copyOf lists
public enum TokenAudit implements AuditAction {

    /** A token was minted with a refused request. */
    MINT_REFUSED(AuditAction.define("token.mint_refused", REFUSED, "zerotrust.token.mints")
            .fields("issuer", "audience", "reason", "detail").tags("reason")
            .describe("A token request was refused (reason, detail).")),
    /** A presented token was rejected. */
    REJECTED(AuditAction.define("token.rejected", REFUSED, "zerotrust.token.verifications")
            .fields("audience", "reason", "detail").tags("reason")
            .describe("A presented token was rejected (reason, detail).")),
    /** JWKS keys were fetched. */
    KEYS_REFRESHED(AuditAction.define("token.keys_refreshed", INFO, "zerotrust.token.key_refreshes")
            .fields("kids")
            .describe("The JWKS keys were fetched.")),
    /** A JWKS fetch failed. */
    KEYS_REFRESH_FAILED(AuditAction.define("token.keys_refresh_failed", WARNING, "zerotrust.token.key_refreshes")
            .fields("detail", "keeping")
            .describe("A JWKS fetch failed; the last good keys stay in use."));

    private final Definition definition;

    TokenAudit(Definition definition) {
        this.definition = definition;
    }

    @Override
    public Definition definition() {
        return definition;
    }
}
