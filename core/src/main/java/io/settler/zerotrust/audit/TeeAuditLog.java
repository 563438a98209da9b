package io.settler.zerotrust.audit;

import java.time.Clock;
import java.util.Map;

/** One log, then another: {@link AuditLog#alsoTo}. Events are stamped by the first log's clock. */
final class TeeAuditLog implements AuditLog {

    private final AuditLog first;
    private final AuditLog second;

    TeeAuditLog(AuditLog first, AuditLog second) {
        this.first = first;
        this.second = second;
    }

    @Override
    public void record(AuditEvent event) {
        first.record(event);
        second.record(event);
    }

    @Override
    public boolean records(AuditAction action) {
        return first.records(action) || second.records(action);
    }

    /** Each log's own tally, so a meter registry behind either still counts by increment. */
    @Override
    public Tally tally(AuditAction action, Map<String, String> fields) {
        Tally one = first.tally(action, fields);
        Tally two = second.tally(action, fields);
        if (one == Tally.NONE) {
            return two;
        }
        if (two == Tally.NONE) {
            return one;
        }
        return () -> {
            one.add();
            two.add();
        };
    }

    @Override
    public Clock clock() {
        return first.clock();
    }

    @Override
    public String toString() {
        return first + " and " + second;
    }
}
