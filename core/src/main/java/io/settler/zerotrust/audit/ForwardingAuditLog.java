package io.settler.zerotrust.audit;

import java.time.Clock;
import java.util.Objects;

/** A log that passes events to another, with its own clock: {@link AuditLog#withClock}. */
final class ForwardingAuditLog implements AuditLog {

    private final AuditLog target;
    private final Clock clock;

    /** Events go to {@code target}, which also answers {@link #records}. */
    ForwardingAuditLog(AuditLog target, Clock clock) {
        this.target = target;
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    @Override
    public void record(AuditEvent event) {
        target.record(event);
    }

    @Override
    public boolean records(AuditAction action) {
        return target.records(action);
    }

    @Override
    public Clock clock() {
        return clock;
    }
}
