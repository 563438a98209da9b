package io.settler.zerotrust.examples;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.settler.zerotrust.audit.AuditEvent;
import io.settler.zerotrust.audit.AuditLog;
import io.settler.zerotrust.micrometer.ZeroTrustMetrics;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;

/**
 * The demo's report: each expectation as one line, accepted or refused and why, with the reason
 * the refusing side recorded in its audit log when there is one; at the end, the decisions as
 * {@code zerotrust-micrometer} counted them. Thread-safe enough for one scenario thread while the
 * services audit from theirs.
 */
final class Report implements AuditLog {

    private final PrintStream out;
    private final List<String> failures = new ArrayList<>();
    private final AtomicReference<AuditEvent> lastRefusal = new AtomicReference<>();
    private final MeterRegistry meters = new SimpleMeterRegistry();
    private final AuditLog metrics = ZeroTrustMetrics.builder(meters).build().auditLog();

    Report(PrintStream out) {
        this.out = out;
    }

    /** An attempt that may throw. */
    @FunctionalInterface
    interface Attempt<T> {
        T run() throws Exception;
    }

    /**
     * Audit events pass through here on their way to SLF4J and to the meters; the report keeps the
     * last refusal.
     */
    @Override
    public void record(AuditEvent event) {
        AuditLog.slf4j().record(event);
        metrics.record(event);
        if (event.outcome() == AuditEvent.Outcome.REFUSED) {
            lastRefusal.set(event);
        }
    }

    void section(String title) {
        out.println();
        out.println(title);
    }

    void progress(String line) {
        out.println("  ... " + line);
    }

    /** Runs {@code attempt}, which should succeed; its result (if a string) is shown. */
    void expectAccepted(String what, Attempt<?> attempt) {
        try {
            Object result = attempt.run();
            out.println("  \u2714 " + what + (result instanceof String s && !s.isEmpty() ? ": " + s : ""));
        } catch (Exception e) {
            failures.add(what);
            out.println("  \u2718 " + what + ": expected to succeed, but " + describe(e));
        }
    }

    /** Runs {@code attempt}, which should throw: the refusal is the expected outcome. */
    void expectRefused(String what, Attempt<?> attempt) {
        lastRefusal.set(null);
        try {
            Object result = attempt.run();
            failures.add(what);
            out.println("  \u2718 " + what + ": expected to be refused, but it was accepted"
                    + (result instanceof String s && !s.isEmpty() ? " (" + s + ")" : ""));
        } catch (Exception e) {
            out.println("  \u2714 " + what + ": refused (" + why(e) + ")");
        }
    }

    /** Records a failed expectation found outside an attempt. */
    void fail(String what, String detail) {
        failures.add(what);
        out.println("  \u2718 " + what + ": " + detail);
    }

    /** The last refusal audited since the current {@link #expectRefused} began, if any. */
    Optional<AuditEvent> lastRefusal() {
        return Optional.ofNullable(lastRefusal.get());
    }

    List<String> failures() {
        return List.copyOf(failures);
    }

    void summary() {
        out.println();
        out.println(failures.isEmpty() ? "All expectations held."
                : failures.size() + " expectation(s) FAILED: " + failures);
    }

    /**
     * The library's decisions during the demo as {@code zerotrust-micrometer} counted them: each
     * counter (and timer) with its tags, as a Prometheus scrape would show them.
     */
    void metrics() {
        section("Decisions counted by zerotrust-micrometer (counter, tags: count; timers: count and mean)");
        meters.getMeters().stream().filter(meter -> meter.getId().getName().startsWith("zerotrust."))
                .sorted(Comparator.comparing((Meter meter) -> meter.getId().getName())
                        .thenComparing(meter -> tags(meter)))
                .forEach(meter -> {
                    if (meter instanceof Counter counter) {
                        out.printf("  %-32s %-72s %5.0f%n", meter.getId().getName(), tags(meter), counter.count());
                    } else if (meter instanceof Timer timer) {
                        out.printf("  %-32s %-72s %5d, mean %.2f ms%n", meter.getId().getName(), tags(meter),
                                timer.count(), timer.mean(TimeUnit.MILLISECONDS));
                    }
                });
    }

    private static String tags(Meter meter) {
        return meter.getId().getTags().stream().filter(tag -> !tag.getValue().equals(ZeroTrustMetrics.NONE))
                .map(Tag::getKey).map(key -> key + "=" + meter.getId().getTag(key)).collect(Collectors.joining(" "));
    }

    private String why(Exception e) {
        AuditEvent audit = lastRefusal.get();
        String seen = describe(e);
        if (audit == null) {
            return seen;
        }
        Object reason = audit.fields().get("reason");
        return seen + "; audit " + audit.action() + (reason == null ? "" : " " + reason);
    }

    static String describe(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String message = root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
        message = message.replaceAll("\\s+", " ");
        return message.length() > 160 ? message.substring(0, 160) + "..." : message;
    }
}
