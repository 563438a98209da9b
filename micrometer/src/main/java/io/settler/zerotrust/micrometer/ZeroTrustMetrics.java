package io.settler.zerotrust.micrometer;

import io.micrometer.core.instrument.MeterRegistry;
import io.settler.zerotrust.audit.AuditLog;
import io.settler.zerotrust.credentials.CredentialSource;
import java.time.Clock;
import java.util.Objects;

/**
 * The library as numbers, in a Micrometer registry: every audited decision is counted, timed
 * decisions are timed, and the credentials' expiry and rotation are gauges.
 *
 * <pre>{@code
 * ZeroTrustMetrics metrics = ZeroTrustMetrics.builder(registry).build();
 * AuditLog audit = AuditLog.slf4j().alsoTo(metrics.auditLog());
 * FileCredentialSource credentials = FileCredentialSource.builder(chain, key, ca).auditLog(audit).start();
 * metrics.bindCredentials(credentials);
 * MtlsContext server = MtlsContext.server(credentials, authorizer).auditLog(audit).build();
 * }</pre>
 *
 * <p><b>Counters and timers come from the audit catalogue</b>, so a new decision is counted without
 * new code here. Each event is counted in the counter its entry names ({@code definition().meter()},
 * e.g. {@code zerotrust.tls.peers}), tagged {@code action} (e.g. {@code peer.refused}),
 * {@code outcome} ({@code ALLOWED}, {@code REFUSED}, {@code INFO}, {@code WARNING}) and each field
 * the entry declares as a tag (e.g. {@code reason}, {@code rule}; {@value #NONE} when the event
 * lacks it). An event that says how long it took ({@code AuditEvent.elapsed()}: handshakes, token
 * verification) is also recorded in the timer named the meter plus {@code .duration}, e.g.
 * {@code zerotrust.token.verifications.duration}, with the same tags.
 *
 * <p><b>Tags stay low-cardinality</b>: only the fields the catalogue declares as tags (reasons,
 * roles, rule names, identities named by the policy) become tags, never tokens, token IDs,
 * fingerprints or addresses; and each tag key of a meter takes at most
 * {@link Builder#maxTagValues} distinct values (default {@value #DEFAULT_MAX_TAG_VALUES}), later
 * ones being counted as {@value #OTHER}, so a hostile source of values cannot grow the registry.
 *
 * <p><b>Gauges</b>, with {@link #bindCredentials}: {@code zerotrust.credentials.validity.remaining}
 * (seconds until the own certificate expires, tag {@code identity}: its SPIFFE ID),
 * {@code zerotrust.credentials.staleness} (seconds since the current credentials took effect, at
 * start or at the last rotation, tag {@code identity}) and
 * {@code zerotrust.trust.anchor.validity.remaining} (seconds until each trust anchor expires, tags
 * {@code anchor}: its subject, and {@code fingerprint}: the first 16 hex digits of its SHA-256
 * fingerprint). They read the source's current snapshot at each scrape and follow its rotations.
 *
 * <p>Immutable and thread-safe.
 */
public final class ZeroTrustMetrics {

    /** The tag value of a declared tag field an event does not carry. */
    public static final String NONE = "none";
    /** The tag value that stands for every value beyond {@link Builder#maxTagValues}. */
    public static final String OTHER = "other";
    /** The default bound on the distinct values of one tag key of one meter. */
    public static final int DEFAULT_MAX_TAG_VALUES = 100;
    static final String ACTION_TAG = "action";
    static final String OUTCOME_TAG = "outcome";

    private final MeterRegistry registry;
    private final Clock clock;
    private final int maxTagValues;
    private final AuditMeters auditLog;

    private ZeroTrustMetrics(Builder builder) {
        this.registry = builder.registry;
        this.clock = builder.clock;
        this.maxTagValues = builder.maxTagValues;
        this.auditLog = new AuditMeters(registry, maxTagValues);
    }

    /** Starts metrics into {@code registry}. */
    public static Builder builder(MeterRegistry registry) {
        return new Builder(registry);
    }

    /**
     * The audit log that counts: pass it to the library's builders ({@code .auditLog(...)}), usually
     * with another that writes, {@code AuditLog.slf4j().alsoTo(metrics.auditLog())}. It wants every
     * entry ({@code records} is true), so routine DEBUG-level events such as each verified token are
     * counted even when the SLF4J log drops them; it never throws, also not when the registry or a
     * meter filter does.
     */
    public AuditLog auditLog() {
        return auditLog;
    }

    /**
     * Adds the gauges of a source's credentials: expiry of the own certificate and of each trust
     * anchor (at most {@link Builder#maxTagValues}, those that expire first), and staleness. Values
     * are read from the source's current snapshot at each scrape; the tags follow its rotations.
     * Bind each source once; two sources with the same identity share their gauges' tags, and the
     * first one bound is the one shown.
     *
     * @return a handle that removes the gauges and stops following the source's rotations
     */
    public Binding bindCredentials(CredentialSource source) {
        return new CredentialMeters(registry, Objects.requireNonNull(source, "source"), clock, maxTagValues);
    }

    @Override
    public String toString() {
        return "ZeroTrustMetrics[" + registry.getClass().getSimpleName() + ", at most " + maxTagValues
                + " values per tag]";
    }

    /** What {@link #bindCredentials} added; {@link #close()} removes it. */
    public interface Binding extends AutoCloseable {
        /** Removes the gauges and stops following the source's rotations. */
        @Override
        void close();
    }

    /** Builds {@link ZeroTrustMetrics}. */
    public static final class Builder {
        private final MeterRegistry registry;
        private int maxTagValues = DEFAULT_MAX_TAG_VALUES;
        private Clock clock = Clock.systemUTC();

        private Builder(MeterRegistry registry) {
            this.registry = Objects.requireNonNull(registry, "registry");
        }

        /**
         * The most distinct values one tag key of one meter takes (default
         * {@value ZeroTrustMetrics#DEFAULT_MAX_TAG_VALUES}; at least 1); later values are counted as
         * {@value ZeroTrustMetrics#OTHER}.
         * Also bounds the trust anchors with a gauge (those that expire first).
         */
        public Builder maxTagValues(int maxTagValues) {
            if (maxTagValues < 1) {
                throw new IllegalArgumentException("maxTagValues must be at least 1; got " + maxTagValues);
            }
            this.maxTagValues = maxTagValues;
            return this;
        }

        /** The clock the gauges measure expiry and staleness against (default the system's). */
        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /** The metrics; counters and timers are registered with the first event of each. */
        public ZeroTrustMetrics build() {
            return new ZeroTrustMetrics(this);
        }
    }
}
