package io.settler.zerotrust.micrometer;

import static io.settler.zerotrust.audit.AuditEvent.Outcome.ALLOWED;
import static io.settler.zerotrust.audit.AuditEvent.Outcome.REFUSED;

import io.settler.zerotrust.audit.AuditAction;

/**
 * A catalogue as an application or another module declares one: the metrics know nothing of it
 * and still count it, by the rule. Its meter is timed, as token verification is.
 */
enum TestAudit implements AuditAction {

    /** A timed routine success, logged at DEBUG only: counted and timed all the same. */
    CHECKED(AuditAction.define("thing.checked", ALLOWED, "zerotrust.test.checks")
            .fields("audience", "jti", "remote").tags("audience").level(AuditAction.Level.DEBUG)
            .describe("A thing was checked.")),
    /** A refusal whose reason is a tag, and whose remote address is not. */
    REFUSED_CHECK(AuditAction.define("thing.refused", REFUSED, "zerotrust.test.checks")
            .fields("audience", "remote", "reason", "detail").tags("audience", "reason")
            .describe("A thing was refused."));

    private final Definition definition;

    TestAudit(Definition definition) {
        this.definition = definition;
    }

    @Override
    public Definition definition() {
        return definition;
    }
}
