package io.settler.zerotrust.redis;

import io.settler.zerotrust.audit.AuditAction;
import io.settler.zerotrust.audit.AuditEvent;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/** Compile shim for the removed AuditEvent.builder, until this module has its own catalogue. */
final class AuditShim {

    private AuditShim() {
    }

    static Builder builder(Instant time, String action, AuditEvent.Outcome outcome) {
        return new Builder(time, action, outcome);
    }

    /** An ad-hoc catalogue entry named by the event's action and outcome. */
    record Kind(AuditAction.Definition definition) implements AuditAction {
    }

    /** The old builder's API. */
    static final class Builder {
        private final Instant time;
        private final String action;
        private final AuditEvent.Outcome outcome;
        private final Map<String, String> fields = new LinkedHashMap<>();
        private boolean authenticatedPeer;

        private Builder(Instant time, String action, AuditEvent.Outcome outcome) {
            this.time = time;
            this.action = action;
            this.outcome = outcome;
        }

        Builder field(String name, @Nullable Object value) {
            fields.put(name, String.valueOf(value));
            return this;
        }

        Builder authenticatedPeer() {
            this.authenticatedPeer = true;
            return this;
        }

        AuditEvent build() {
            AuditAction kind = new Kind(AuditAction.define(action, outcome, "zerotrust.shim")
                    .fields(fields.keySet().toArray(String[]::new)).describe("compile shim"));
            return new AuditEvent(time, kind, fields, authenticatedPeer, null);
        }
    }
}
