package io.settler.zerotrust.audit;

import static io.settler.zerotrust.audit.AuditEvent.Outcome.ALLOWED;
import static io.settler.zerotrust.audit.AuditEvent.Outcome.REFUSED;

/** A catalogue for tests of the audit machinery itself, independent of any module's real entries. */
enum SampleAudit implements AuditAction {
    TOKEN_REJECTED(AuditAction.define("token.rejected", REFUSED, "zerotrust.sample.tokens")
            .fields("reason", "detail").tags("reason").describe("A sample refusal.")),
    PEER_REFUSED(AuditAction.define("peer.refused", REFUSED, "zerotrust.sample.peers")
            .fields("identity", "remote", "reason", "rule").tags("reason").describe("A sample refusal of a peer.")),
    PEER_ALLOWED(AuditAction.define("peer.allowed", ALLOWED, "zerotrust.sample.peers")
            .fields("reason").describe("A sample success.")),
    ROUTINE(AuditAction.define("sample.routine", ALLOWED, "zerotrust.sample.routine")
            .level(Level.DEBUG).describe("A sample hot-path success."));

    private final Definition definition;

    SampleAudit(Definition definition) {
        this.definition = definition;
    }

    @Override
    public Definition definition() {
        return definition;
    }
}
