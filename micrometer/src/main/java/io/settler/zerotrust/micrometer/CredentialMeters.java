package io.settler.zerotrust.micrometer;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import io.settler.zerotrust.audit.LogSafe;
import io.settler.zerotrust.credentials.CertificateFingerprint;
import io.settler.zerotrust.credentials.CredentialSnapshot;
import io.settler.zerotrust.credentials.CredentialSource;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import javax.security.auth.x500.X500Principal;

/**
 * The gauges of one credential source: seconds until the own certificate and each trust anchor
 * expire, and seconds since the current credentials took effect. Values are read from the source's
 * current snapshot at each scrape; the tag sets (identity, anchors) are renewed on each rotation.
 */
final class CredentialMeters implements ZeroTrustMetrics.Binding {

    /** Seconds until the own leaf certificate's notAfter; negative once expired. */
    static final String VALIDITY_REMAINING = "zerotrust.credentials.validity.remaining";
    /** Seconds since the current credentials were loaded and took effect (start or last rotation). */
    static final String STALENESS = "zerotrust.credentials.staleness";
    /** Seconds until each trust anchor's notAfter; negative once expired. */
    static final String ANCHOR_VALIDITY_REMAINING = "zerotrust.trust.anchor.validity.remaining";
    /** How many hex digits of an anchor's SHA-256 fingerprint its {@code fingerprint} tag shows. */
    static final int FINGERPRINT_DIGITS = 16;
    /** The gauges' unit: a registry that names units appends it, e.g. Prometheus's {@code _seconds}. */
    private static final String SECONDS = "seconds";

    private final CredentialSource source;
    private final Clock clock;
    private final int maxAnchors;
    private final MultiGauge own;
    private final MultiGauge staleness;
    private final MultiGauge anchors;
    private final AutoCloseable listener;

    CredentialMeters(MeterRegistry registry, CredentialSource source, Clock clock, int maxAnchors) {
        this.source = source;
        this.clock = clock;
        this.maxAnchors = maxAnchors;
        this.own = MultiGauge.builder(VALIDITY_REMAINING).baseUnit(SECONDS)
                .description("Seconds until the service's own certificate expires (negative once expired)")
                .register(registry);
        this.staleness = MultiGauge.builder(STALENESS).baseUnit(SECONDS)
                .description("Seconds since the current credentials took effect (start or last rotation)")
                .register(registry);
        this.anchors = MultiGauge.builder(ANCHOR_VALIDITY_REMAINING).baseUnit(SECONDS)
                .description("Seconds until each trust anchor of the bundle expires (negative once expired)")
                .register(registry);
        refresh(source.current());
        this.listener = source.onRotation(this::refresh);
    }

    /** Renews the tag sets for a snapshot; the values stay live reads of the source. */
    private void refresh(CredentialSnapshot snapshot) {
        Tags identity = Tags.of("identity", snapshot.identity().identity().map(Object::toString)
                .map(LogSafe::text).orElse(ZeroTrustMetrics.NONE));
        // Suppliers: the gauges hold them strongly, so they live as long as the registry, not the caller's reference.
        own.register(List.of(MultiGauge.Row.of(identity, () -> secondsUntil(source.current().identity().notAfter()))),
                true);
        staleness.register(List.of(MultiGauge.Row.of(identity, () -> -secondsUntil(source.current().loadedAt()))),
                true);
        List<X509Certificate> soonest = new ArrayList<>(snapshot.trust().anchors());
        soonest.sort(Comparator.comparing(X509Certificate::getNotAfter));
        List<MultiGauge.Row<?>> rows = new ArrayList<>();
        for (X509Certificate anchor : soonest.subList(0, Math.min(maxAnchors, soonest.size()))) {
            Instant notAfter = anchor.getNotAfter().toInstant();
            Tags tags = Tags.of("anchor", LogSafe.text(anchor.getSubjectX500Principal().getName(X500Principal.RFC2253)),
                    "fingerprint", CertificateFingerprint.sha256(anchor).substring(0, FINGERPRINT_DIGITS));
            rows.add(MultiGauge.Row.of(tags, () -> secondsUntil(notAfter)));
        }
        anchors.register(rows, true);
    }

    private double secondsUntil(Instant instant) {
        return Duration.between(clock.instant(), instant).toMillis() / 1000.0;
    }

    /** Stops following rotations and removes the gauges' rows. */
    @Override
    public void close() {
        try {
            listener.close();
        } catch (Exception e) { // a source's handle; the rows go regardless
            // nothing to do: the listener only renews tag sets
        }
        own.register(List.of(), true);
        staleness.register(List.of(), true);
        anchors.register(List.of(), true);
    }
}
