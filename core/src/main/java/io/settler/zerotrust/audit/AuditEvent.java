package io.settler.zerotrust.audit;

import java.time.Duration;
import java.time.Instant;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * One security decision or state change: a peer accepted or refused, credentials rotated, a
 * certificate nearing expiry, the start-up posture. Made by {@link AuditLog#event(AuditAction)}.
 *
 * <p>Fields are identities, fingerprints, addresses, rule names and reasons, never key material,
 * passwords or whole tokens: no API of this library passes those here. Values are cleaned of
 * control characters and bounded in length, so a hostile peer cannot forge log lines through a
 * certificate field.
 *
 * @param time when it happened
 * @param kind the catalogue entry: action name, outcome, level, meter
 * @param fields details in a stable order
 * @param authenticatedPeer whether the event is about a peer whose certificate chain verified
 *     against the trust bundle (e.g. the refusal of an identity the allow-list does not name): only
 *     the holder of a certificate from a trusted CA can cause it, so a rate-limited log
 *     ({@link AuditLog#limitedTo}) always records it
 * @param elapsed how long the decision took, for the decisions that are timed (handshakes, token
 *     verification); {@code null} for the others
 */
public record AuditEvent(Instant time, AuditAction kind, Map<String, String> fields, boolean authenticatedPeer,
                         @Nullable Duration elapsed) {

    private static final Pattern FIELD = Pattern.compile("[a-z][a-z_0-9]*");

    /** How an audited action ended. */
    public enum Outcome {
        /** Something was let through. */
        ALLOWED,
        /** Something was refused. */
        REFUSED,
        /** A state change worth recording, such as a rotation. */
        INFO,
        /** A risk that needs attention, such as an insecure option or an expiring certificate. */
        WARNING
    }

    /** Validates the field names, and cleans the values. */
    public AuditEvent {
        Objects.requireNonNull(time, "time");
        Objects.requireNonNull(kind, "kind");
        Map<String, String> cleaned = new LinkedHashMap<>();
        fields.forEach((name, value) -> {
            if (!FIELD.matcher(name).matches()) {
                throw new IllegalArgumentException("an audit field name is lower snake case; got " + name);
            }
            cleaned.put(name, LogSafe.text(Objects.requireNonNull(value, name)));
        });
        fields = Collections.unmodifiableMap(cleaned);
    }

    /** An untimed event about no authenticated peer (see {@link #authenticatedPeer()}). */
    public AuditEvent(Instant time, AuditAction kind, Map<String, String> fields) {
        this(time, kind, fields, false, null);
    }

    /** The action name, e.g. {@code peer.refused}. */
    public String action() {
        return kind.action();
    }

    /** How it ended. */
    public Outcome outcome() {
        return kind.outcome();
    }
}
