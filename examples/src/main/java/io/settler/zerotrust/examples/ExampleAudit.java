package io.settler.zerotrust.examples;

import static io.settler.zerotrust.audit.AuditEvent.Outcome.REFUSED;

import io.settler.zerotrust.audit.AuditAction;

/**
 * The example services' own audit catalogue: the decisions the application code makes itself, on
 * top of those the library records (each library module has its own catalogue, e.g.
 * {@code CoreAudit}, {@code QueueAudit}). An application declares its entries the same way: one
 * enum implementing {@link AuditAction}, one constant per action and outcome, with the fields it
 * records, the low-cardinality ones among them as metric tags, and a meter named under the
 * application's own prefix. Record one with
 * {@code audit.event(ExampleAudit.TENANT_REFUSED).field("peer", ...).record()}.
 */
@SuppressWarnings("ImmutableEnumChecker") // Definition is a record of strings and List.copyOf lists
public enum ExampleAudit implements AuditAction {

    /**
     * The orders API refused a request whose token verified but names no usable tenant. Its own
     * action, not the library's {@code request.refused}: an entry is one action and outcome, so
     * operators and metrics can tell the application's decisions from the library's.
     */
    TENANT_REFUSED(AuditAction.define("orders.tenant_refused", REFUSED, "examples.orders.refusals")
            .fields("peer", "method", "path", "status", "reason", "detail").tags("peer", "method", "reason")
            .describe("The orders API refused a caller's request because its token carries no tenant or an invalid"
                    + " one (reason): the caller mints tokens without the tenant claim; fix the caller."));

    private final Definition definition;

    ExampleAudit(Definition definition) {
        this.definition = definition;
    }

    @Override
    public Definition definition() {
        return definition;
    }
}
