package io.settler.zerotrust.credentials;

import io.settler.zerotrust.audit.AuditEvent;
import io.settler.zerotrust.audit.AuditLog;
import io.settler.zerotrust.audit.CoreAudit;
import io.settler.zerotrust.time.Durations;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Warns before credentials run out: when the service's own certificate has used a share of its
 * lifetime (renewal is due), when it has used a larger share without being rotated (rotation has
 * stalled), when it has expired, and when a trust anchor is about to expire.
 *
 * <pre>{@code
 * try (ExpiryMonitor monitor = ExpiryMonitor.builder(credentials).build().start(Duration.ofMinutes(5))) { ... }
 * }</pre>
 *
 * <p>Each warning is a WARNING audit event ({@code credentials.expiring},
 * {@code credentials.rotation_stalled}, {@code credentials.expired}, {@code trust.anchor_expiring}),
 * recorded once per certificate so a stuck rotation does not flood the log. Thread-safe.
 */
public final class ExpiryMonitor implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ExpiryMonitor.class);

    private final CredentialSource source;
    private final Clock clock;
    private final AuditLog audit;
    private final double renewalShare;
    private final double stalledShare;
    private final Duration anchorWarning;
    private final Set<String> alreadyWarned = ConcurrentHashMap.newKeySet();
    private volatile @Nullable ScheduledExecutorService scheduler;

    private ExpiryMonitor(Builder builder) {
        this.source = builder.source;
        this.clock = builder.clock;
        this.audit = builder.audit;
        this.renewalShare = builder.renewalShare;
        this.stalledShare = builder.stalledShare;
        this.anchorWarning = builder.anchorWarning;
    }

    /** A monitor for the credentials of {@code source}. */
    public static Builder builder(CredentialSource source) {
        return new Builder(source);
    }

    /**
     * Checks the current snapshot now and records a warning for each threshold newly crossed.
     *
     * @return the events recorded by this check (empty when all is well or already reported)
     */
    public List<AuditEvent> check() {
        Instant now = clock.instant();
        CredentialSnapshot snapshot = source.current();
        List<AuditEvent> events = new ArrayList<>();
        X509Certificate leaf = snapshot.identity().certificate();
        double used = lifetimeShare(leaf, now);
        String fingerprint = snapshot.identity().fingerprint();
        if (!now.isBefore(leaf.getNotAfter().toInstant())) {
            warnOnce(events, CoreAudit.CREDENTIALS_EXPIRED, fingerprint, snapshot, "the certificate has expired:"
                    + " peers refuse it; rotate it now");
        } else if (used >= stalledShare) {
            warnOnce(events, CoreAudit.CREDENTIALS_ROTATION_STALLED, fingerprint, snapshot, String.format(
                    "%.0f%% of the certificate's lifetime is used and it has not been rotated;"
                            + " check the issuer and the credential files", used * 100));
        } else if (used >= renewalShare) {
            warnOnce(events, CoreAudit.CREDENTIALS_EXPIRING, fingerprint, snapshot, String.format(
                    "%.0f%% of the certificate's lifetime is used; renewal is due", used * 100));
        }
        for (X509Certificate anchor : snapshot.trust().anchors()) {
            Instant notAfter = anchor.getNotAfter().toInstant();
            if (!now.plus(anchorWarning).isBefore(notAfter)) {
                String anchorFingerprint = Certificates.fingerprint(anchor);
                if (alreadyWarned.add("trust.anchor_expiring/" + anchorFingerprint)) {
                    AuditEvent event = audit.event(CoreAudit.TRUST_ANCHOR_EXPIRING)
                            .field("anchor", anchor.getSubjectX500Principal().getName())
                            .field("fingerprint", anchorFingerprint)
                            .field("not_after", notAfter)
                            .field("remaining", Duration.between(now, notAfter).isNegative() ? "expired"
                                    : Duration.between(now, notAfter).toString())
                            .field("detail", "add the successor CA to the trust bundle before this one expires")
                            .record();
                    events.add(event);
                }
            }
        }
        return List.copyOf(events);
    }

    /**
     * Runs {@link #check()} now and then every {@code interval} on a daemon thread, until
     * {@link #close()}.
     *
     * @param interval positive; rounded up to whole milliseconds
     * @return this monitor
     * @throws IllegalArgumentException if {@code interval} is zero or negative
     * @throws IllegalStateException if already started
     */
    public synchronized ExpiryMonitor start(Duration interval) {
        long intervalMillis = Durations.toMillisRoundedUp(Durations.requirePositive("interval", interval));
        if (scheduler != null) {
            throw new IllegalStateException("already started");
        }
        scheduler = Executors.newSingleThreadScheduledExecutor(runnable -> {
            Thread thread = new Thread(runnable, "settler-expiry-monitor");
            thread.setDaemon(true);
            return thread;
        });
        // A periodic task that throws is never run again: a failed check (e.g. an audit log that throws)
        // would end the monitoring silently. Say so and check again at the next interval.
        ScheduledFuture<?> unused = scheduler.scheduleWithFixedDelay(() -> {
            try {
                check();
            } catch (RuntimeException e) {
                LOG.warn("The credential expiry check failed; checking again in {} ms", intervalMillis, e);
            }
        }, 0, intervalMillis, TimeUnit.MILLISECONDS);
        return this;
    }

    /** Stops the periodic checks. */
    @Override
    public synchronized void close() {
        if (scheduler != null) {
            scheduler.shutdownNow();
        }
    }

    private void warnOnce(List<AuditEvent> events, CoreAudit action, String fingerprint,
                          CredentialSnapshot snapshot, String detail) {
        if (!alreadyWarned.add(action + "/" + fingerprint)) {
            return;
        }
        Instant notAfter = snapshot.identity().notAfter();
        AuditEvent event = audit.event(action)
                .field("identity", snapshot.identity().identity().map(Object::toString).orElse("none"))
                .field("fingerprint", fingerprint)
                .field("generation", snapshot.generation())
                .field("not_after", notAfter)
                .field("detail", detail)
                .record();
        events.add(event);
    }

    private static double lifetimeShare(X509Certificate certificate, Instant now) {
        long start = certificate.getNotBefore().toInstant().toEpochMilli();
        long end = certificate.getNotAfter().toInstant().toEpochMilli();
        return end <= start ? 1.0 : (double) (now.toEpochMilli() - start) / (end - start);
    }

    /** Builds an {@link ExpiryMonitor}. */
    public static final class Builder {
        /** Far enough for any CA; keeps {@code now + anchorWarning} well inside {@link Instant}'s range. */
        private static final Duration MAX_ANCHOR_WARNING = Duration.ofDays(3650);
        private final CredentialSource source;
        private Clock clock = Clock.systemUTC();
        private AuditLog audit = AuditLog.slf4j();
        private double renewalShare = 0.75;
        private double stalledShare = 0.9;
        private Duration anchorWarning = Duration.ofDays(30);

        private Builder(CredentialSource source) {
            this.source = Objects.requireNonNull(source, "source");
        }

        /** The clock (default the system clock). */
        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /** Where warnings go (default {@link AuditLog#slf4j()}). */
        public Builder auditLog(AuditLog audit) {
            this.audit = Objects.requireNonNull(audit, "audit");
            return this;
        }

        /**
         * Shares of the certificate's lifetime after which renewal is due (default 0.75) and after
         * which rotation counts as stalled (default 0.9).
         */
        public Builder lifetimeShares(double renewal, double stalled) {
            if (!(renewal > 0 && renewal < stalled && stalled < 1)) {
                throw new IllegalArgumentException(
                        "need 0 < renewal < stalled < 1; got " + renewal + " and " + stalled);
            }
            this.renewalShare = renewal;
            this.stalledShare = stalled;
            return this;
        }

        /** How long before a trust anchor expires to warn (default 30 days; positive, at most 10 years). */
        public Builder anchorWarning(Duration anchorWarning) {
            this.anchorWarning = Durations.requireBetween("anchorWarning", anchorWarning, MAX_ANCHOR_WARNING);
            return this;
        }

        /** The monitor; call {@link ExpiryMonitor#start(Duration)} or {@link ExpiryMonitor#check()}. */
        public ExpiryMonitor build() {
            return new ExpiryMonitor(this);
        }
    }
}
