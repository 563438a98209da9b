package io.settler.zerotrust.testkit;

import io.settler.zerotrust.audit.AuditAction;
import io.settler.zerotrust.audit.AuditCoverage;
import io.settler.zerotrust.audit.AuditEvent;
import io.settler.zerotrust.audit.AuditLog;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Predicate;
import org.jspecify.annotations.Nullable;

/**
 * An {@link AuditLog} that keeps every event in memory, in the order recorded, for a test to assert
 * on: {@code ServiceTokens.builder()...auditLog(audit)}, then {@code audit.single(TokenAudit.REJECTED)}.
 * Entries can be named by their catalogue constant or by their action name.
 *
 * <p>When the system property {@value AuditCoverage#DIRECTORY_PROPERTY} names a directory (the
 * build sets it), every event is also marked there, so that a module's last test can prove each
 * entry of its catalogue is emitted by some test ({@link AuditCoverage}).
 *
 * <p>Thread-safe: the code under test may record from its own threads (Netty event loops, pool
 * housekeeping, consumer polls) while the test reads; every read returns a snapshot, and
 * {@link #await} waits for an event that has not arrived yet. Failures are {@link AssertionError}s
 * that list what was recorded.
 */
public final class RecordingAuditLog implements AuditLog {

    private final List<AuditEvent> events = new ArrayList<>();
    private final @Nullable AuditLog next;
    private final Optional<AuditCoverage> coverage = AuditCoverage.fromSystemProperty();

    /** A log that only records. */
    public RecordingAuditLog() {
        this(null);
    }

    private RecordingAuditLog(@Nullable AuditLog next) {
        this.next = next;
    }

    /**
     * A log that records each event and also writes it to {@link AuditLog#slf4j()}, so that the
     * test's log shows the events around a failure.
     */
    public static RecordingAuditLog logging() {
        return new RecordingAuditLog(AuditLog.slf4j());
    }

    /** Passes the event on (see {@link #logging()}), then keeps it and wakes up {@link #await}. */
    @Override
    public void record(AuditEvent event) {
        Objects.requireNonNull(event, "event");
        if (next != null) {
            next.record(event);
        }
        coverage.ifPresent(marks -> marks.mark(event));
        synchronized (events) {
            events.add(event);
            events.notifyAll();
        }
    }

    /** Every event recorded so far, oldest first: a copy, which later events do not change. */
    public List<AuditEvent> events() {
        synchronized (events) {
            return List.copyOf(events);
        }
    }

    /** The action of every event recorded so far, oldest first, e.g. for {@code containsExactly}. */
    public List<String> actions() {
        return events().stream().map(AuditEvent::action).toList();
    }

    /** The events recorded so far with this action name (all outcomes), oldest first. */
    public List<AuditEvent> withAction(String action) {
        return matching(named(action));
    }

    /** The events recorded so far of this catalogue entry, oldest first. */
    public List<AuditEvent> withAction(AuditAction entry) {
        return matching(of(entry));
    }

    private List<AuditEvent> matching(Predicate<AuditEvent> kind) {
        return events().stream().filter(kind).toList();
    }

    private static Predicate<AuditEvent> named(String action) {
        Objects.requireNonNull(action, "action");
        return event -> event.action().equals(action);
    }

    private static Predicate<AuditEvent> of(AuditAction entry) {
        Objects.requireNonNull(entry, "entry");
        return event -> event.kind().equals(entry);
    }

    /**
     * The latest event with this action name.
     *
     * @throws AssertionError if there is none, listing the actions that were recorded
     */
    public AuditEvent last(String action) {
        return last(action, withAction(action));
    }

    /**
     * The latest event of this catalogue entry.
     *
     * @throws AssertionError if there is none, listing the actions that were recorded
     */
    public AuditEvent last(AuditAction entry) {
        return last(entry.toString(), withAction(entry));
    }

    private AuditEvent last(String action, List<AuditEvent> found) {
        if (found.isEmpty()) {
            throw new AssertionError("no " + action + " event; recorded: " + actions());
        }
        return found.get(found.size() - 1);
    }

    /**
     * The one event with this action.
     *
     * @throws AssertionError if there is none or more than one, listing what was recorded
     */
    public AuditEvent single(String action) {
        return single(action, withAction(action));
    }

    /**
     * The one event of this catalogue entry.
     *
     * @throws AssertionError if there is none or more than one, listing what was recorded
     */
    public AuditEvent single(AuditAction entry) {
        return single(entry.toString(), withAction(entry));
    }

    private AuditEvent single(String action, List<AuditEvent> found) {
        if (found.size() != 1) {
            throw new AssertionError("expected one " + action + " event, found " + found.size() + "; recorded: "
                    + (found.isEmpty() ? actions() : found));
        }
        return found.get(0);
    }

    /**
     * Waits until an event with this action has been recorded (or returns one recorded before), for
     * events that other threads record after the test's call returned.
     *
     * @return the first such event
     * @throws AssertionError if none is recorded within {@code timeout}, listing what was recorded
     */
    public AuditEvent awaitAction(String action, Duration timeout) {
        return await(action, event -> true, timeout);
    }

    /** {@link #awaitAction(String, Duration)} for a catalogue entry. */
    public AuditEvent awaitAction(AuditAction entry, Duration timeout) {
        return await(entry, event -> true, timeout);
    }

    /** {@link #await(String, Predicate, Duration)} for a catalogue entry. */
    public AuditEvent await(AuditAction entry, Predicate<? super AuditEvent> filter, Duration timeout) {
        return await(entry.toString(), of(entry), filter, timeout);
    }

    /**
     * Waits until an event with this action that {@code filter} accepts has been recorded (or returns
     * one recorded before), e.g. {@code await("connection.closed", field("reason", "IDLE_TIMEOUT"), ...)}.
     *
     * @return the first such event
     * @throws AssertionError if none is recorded within {@code timeout}, or the thread is interrupted
     *     (its interrupt status then stays set), listing what was recorded
     */
    public AuditEvent await(String action, Predicate<? super AuditEvent> filter, Duration timeout) {
        return await(action, named(action), filter, timeout);
    }

    private AuditEvent await(String action, Predicate<AuditEvent> kind, Predicate<? super AuditEvent> filter,
                             Duration timeout) {
        Objects.requireNonNull(filter, "filter");
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (events) {
            int seen = 0;
            while (true) {
                for (; seen < events.size(); seen++) {
                    AuditEvent event = events.get(seen);
                    if (kind.test(event) && filter.test(event)) {
                        return event;
                    }
                }
                long remaining = deadline - System.nanoTime();
                if (remaining <= 0) {
                    throw new AssertionError("no matching " + action + " event within " + timeout + "; recorded: "
                            + events);
                }
                try {
                    // At least a millisecond: wait(0) would wait without a bound.
                    events.wait(Math.max(1, remaining / 1_000_000));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new AssertionError("interrupted while waiting for a " + action + " event; recorded: "
                            + events, e);
                }
            }
        }
    }

    /** Forgets every event recorded so far, e.g. after a test's setup. */
    public void clear() {
        synchronized (events) {
            events.clear();
        }
    }

    /** Accepts events whose field {@code name} is {@code value}: a filter for {@link #await}. */
    public static Predicate<AuditEvent> field(String name, String value) {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(value, "value");
        return event -> value.equals(event.fields().get(name));
    }

    /** The events recorded so far. */
    @Override
    public String toString() {
        return "RecordingAuditLog" + events();
    }
}
