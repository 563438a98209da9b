package io.settler.zerotrust.token;

import static io.settler.zerotrust.audit.AuditEvent.Outcome.ALLOWED;
import static io.settler.zerotrust.audit.AuditEvent.Outcome.INFO;
import static io.settler.zerotrust.audit.AuditEvent.Outcome.REFUSED;
import static io.settler.zerotrust.audit.AuditEvent.Outcome.WARNING;

import io.settler.zerotrust.audit.AuditAction;

/** The audit catalogue of the service-token module: minting, verification, and fetched key sets. */
@SuppressWarnings("ImmutableEnumChecker") // Definition is a record of strings and List.copyOf lists
public enum TokenAudit implements AuditAction {

    /** A mint request was refused: no signing key, a lifetime too long, a scope not granted, an expired binding. */
    MINT_REFUSED(AuditAction.define("token.mint_refused", REFUSED, "zerotrust.token.mints")
            .fields("issuer", "audience", "reason", "detail").tags("issuer", "audience", "reason")
            .describe("This service asked to mint a token it may not (reason, detail): usually a scope the policy"
                    + " does not grant it; fix the caller or the policy.")),
    /** A token passed every check of a verification. */
    VERIFIED(AuditAction.define("token.verified", ALLOWED, "zerotrust.token.verifications")
            .level(AuditAction.Level.DEBUG)
            .fields("issuer", "audience", "cached").tags("issuer", "audience", "cached", "reason")
            .describe("A token of a trusted issuer passed verification (cached: its signature and claims were"
                    + " verified before); routine, logged only at DEBUG.")),
    /** A token failed verification. */
    REJECTED(AuditAction.define("token.rejected", REFUSED, "zerotrust.token.verifications")
            .fields("audience", "reason", "detail").tags("issuer", "audience", "cached", "reason")
            .describe("A presented token was refused (reason, detail): a caller with a bad, expired, replayed or"
                    + " under-scoped token, or someone probing; many from one caller mean a misconfiguration.")),
    /** A fetched JWKS took effect. */
    KEYS_REFRESHED(AuditAction.define("token.keys_refreshed", INFO, "zerotrust.token.key_refreshes")
            .fields("kids").tags("keeping")
            .describe("The verification keys were fetched again (JwksSource) and are in use: kids lists them.")),
    /** A JWKS fetch failed; the keys held before stay in use. */
    KEYS_REFRESH_FAILED(AuditAction.define("token.keys_refresh_failed", WARNING, "zerotrust.token.key_refreshes")
            .fields("detail", "keeping").tags("keeping")
            .describe("Fetching the verification keys failed (detail); the last good keys stay in use (keeping):"
                    + " fix the JWKS endpoint before tokens signed with new keys arrive."));

    private final Definition definition;

    TokenAudit(Definition definition) {
        this.definition = definition;
    }

    @Override
    public Definition definition() {
        return definition;
    }
}
