package io.settler.zerotrust.audit;

import static io.settler.zerotrust.audit.AuditEvent.Outcome.ALLOWED;
import static io.settler.zerotrust.audit.AuditEvent.Outcome.INFO;
import static io.settler.zerotrust.audit.AuditEvent.Outcome.REFUSED;
import static io.settler.zerotrust.audit.AuditEvent.Outcome.WARNING;

/** The audit catalogue of the core module: TLS peers and posture, credentials, trust anchors, the audit log itself. */
@SuppressWarnings("ImmutableEnumChecker") // Definition is a record of strings and List.copyOf lists
public enum CoreAudit implements AuditAction {

    /** A TLS peer's certificate verified and the authorizer admitted it. */
    PEER_ACCEPTED(AuditAction.define("peer.accepted", ALLOWED, "zerotrust.tls.peers")
            .fields("role", "identity", "fingerprint", "remote", "rule").tags("role", "rule", "reason")
            .describe("A TLS peer's chain verified against the trust bundle and a policy rule admitted its identity.")),
    /** A TLS peer was refused: no certificate, a bad chain, an identity no rule admits, or a failed handshake. */
    PEER_REFUSED(AuditAction.define("peer.refused", REFUSED, "zerotrust.tls.peers")
            .fields("role", "identity", "fingerprint", "remote", "reason", "detail").tags("role", "rule", "reason")
            .describe("A TLS peer was refused (reason says why); with identity set, the holder of a certificate"
                    + " from a trusted CA tried a call the policy does not allow.")),
    /** The settings of a new TLS context. */
    TLS_POSTURE(posture(INFO)
            .describe("A TLS context was built: protocols, suites, client authentication, own identity and trust.")),
    /** The settings of a new TLS context that allows TLS 1.2. */
    TLS_POSTURE_WEAKENED(posture(WARNING)
            .describe("A TLS context was built that allows TLS 1.2 (allowTls12): remove it once every peer speaks"
                    + " TLS 1.3.")),
    /** New credential files were read and took effect. */
    CREDENTIALS_ROTATED(AuditAction.define("credentials.rotated", INFO, "zerotrust.credentials.rotations")
            .fields("generation", "identity", "fingerprint", "previous_fingerprint", "not_after", "trust_anchors")
            .tags("reason")
            .describe("New certificate, key or trust files took effect; new handshakes use them.")),
    /** Changed credential files were refused; the previous credentials stay in use. */
    CREDENTIALS_ROTATION_REFUSED(AuditAction.define("credentials.rotation_refused", WARNING,
                    "zerotrust.credentials.rotations")
            .fields("chain_file", "key_file", "trust_file", "reason", "detail", "kept_generation", "kept_fingerprint")
            .tags("reason")
            .describe("Changed credential files were unusable (reason, detail); the previous ones stay in use:"
                    + " fix the files.")),
    /** The own certificate has used up its renewal share of its lifetime. */
    CREDENTIALS_EXPIRING(AuditAction.define("credentials.expiring", WARNING, "zerotrust.credentials.expiry")
            .fields("identity", "fingerprint", "generation", "not_after", "detail")
            .describe("The own certificate is due for renewal.")),
    /** The own certificate is near its end and has not been rotated. */
    CREDENTIALS_ROTATION_STALLED(AuditAction.define("credentials.rotation_stalled", WARNING,
                    "zerotrust.credentials.expiry")
            .fields("identity", "fingerprint", "generation", "not_after", "detail")
            .describe("The own certificate is near its end and was not rotated: check the issuer and the files.")),
    /** The own certificate has expired. */
    CREDENTIALS_EXPIRED(AuditAction.define("credentials.expired", WARNING, "zerotrust.credentials.expiry")
            .fields("identity", "fingerprint", "generation", "not_after", "detail")
            .describe("The own certificate has expired: peers refuse it; rotate it now.")),
    /** A trust anchor expires within the warning period. */
    TRUST_ANCHOR_EXPIRING(AuditAction.define("trust.anchor_expiring", WARNING, "zerotrust.credentials.expiry")
            .fields("anchor", "fingerprint", "not_after", "remaining", "detail")
            .describe("A CA of the trust bundle expires soon: add its successor to the bundle first.")),
    /** A rate-limited audit log did not record some events. */
    AUDIT_SUPPRESSED(AuditAction.define("audit.suppressed", WARNING, "zerotrust.audit.suppressed")
            .fields("suppressed_action", "suppressed_outcome", "suppressed_reason", "suppressed_source", "count",
                    "window_seconds")
            .tags("suppressed_action", "suppressed_outcome", "suppressed_reason")
            .describe("A rate-limited audit log counted events instead of recording them: someone causes them at"
                    + " will (e.g. junk connections from suppressed_source)."));

    private final Definition definition;

    CoreAudit(Definition definition) {
        this.definition = definition;
    }

    @Override
    public Definition definition() {
        return definition;
    }

    /** A TLS context's posture, TLS 1.3 only or weakened: the same fields. */
    private static Definition.Builder posture(AuditEvent.Outcome outcome) {
        return AuditAction.define("tls.posture", outcome, "zerotrust.tls.contexts")
                .fields("role", "protocols", "cipher_suites", "client_auth", "session_resumption", "identity",
                        "fingerprint", "trust_anchors", "authorizer", "expected_server").tags("role");
    }
}
