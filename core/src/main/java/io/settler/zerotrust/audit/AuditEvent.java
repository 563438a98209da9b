package io.settler.zerotrust.audit;

import java.time.Instant;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * One security decision or state change: a peer accepted or refused, credentials rotated, a
 * certificate nearing expiry, the start-up posture.
 *
 * <p>Fields are identities, fingerprints, addresses, rule names and reasons, never key material,
 * passwords or whole tokens: no API of this library passes those here. Values are cleaned of
 * control characters and bounded in length, so a hostile peer cannot forge log lines through a
 * certificate field.
 *
 * @param time when it happened
 * @param action what happened, dotted lower case, e.g. {@code peer.refused}
 * @param outcome how it ended
 * @param fields details in a stable order
 * @param authenticatedPeer whether the event is about a peer whose certificate chain verified
 *     against the trust bundle (e.g. the refusal of an identity the allow-list does not name): only
 *     the holder of a certificate from a trusted CA can cause it, so a rate-limited log
 *     ({@link AuditLog#limitedTo}) always records it
 */
public record AuditEvent(Instant time, String action, Outcome outcome, Map<String, String> fields,
                         boolean authenticatedPeer) {

    private static final Pattern ACTION = Pattern.compile("[a-z][a-z0-9_]*(\\.[a-z][a-z0-9_]*)*");
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

    /** Validates the action and field names, and cleans the values. */
    public AuditEvent {
        Objects.requireNonNull(time, "time");
        Objects.requireNonNull(action, "action");
        Objects.requireNonNull(outcome, "outcome");
        if (!ACTION.matcher(action).matches()) {
            throw new IllegalArgumentException(
                    "an audit action is dotted lower case, e.g. peer.refused; got " + action);
        }
        Map<String, String> cleaned = new LinkedHashMap<>();
        fields.forEach((name, value) -> {
            if (!FIELD.matcher(name).matches()) {
                throw new IllegalArgumentException("an audit field name is lower snake case; got " + name);
            }
            cleaned.put(name, clean(Objects.requireNonNull(value, name)));
        });
        fields = Collections.unmodifiableMap(cleaned);
    }

    /** An event about no authenticated peer (see {@link #authenticatedPeer()}). */
    public AuditEvent(Instant time, String action, Outcome outcome, Map<String, String> fields) {
        this(time, action, outcome, fields, false);
    }

    /** Starts an event with the given action and outcome, at the given time. */
    public static Builder builder(Instant time, String action, Outcome outcome) {
        return new Builder(time, action, outcome);
    }

    private static String clean(String value) {
        return LogSafe.text(value);
    }

    /** Collects fields in order. Not thread-safe. */
    public static final class Builder {
        private final Instant time;
        private final String action;
        private final Outcome outcome;
        private final Map<String, String> fields = new LinkedHashMap<>();
        private boolean authenticatedPeer;

        private Builder(Instant time, String action, Outcome outcome) {
            this.time = time;
            this.action = action;
            this.outcome = outcome;
        }

        /** Adds a field; {@code String.valueOf} of the value. */
        public Builder field(String name, @Nullable Object value) {
            fields.put(name, String.valueOf(value));
            return this;
        }

        /**
         * Marks the event as about a peer whose certificate chain has verified against the trust
         * bundle; set it only after that verification succeeded (see {@link AuditEvent#authenticatedPeer()}).
         */
        public Builder authenticatedPeer() {
            this.authenticatedPeer = true;
            return this;
        }

        /** The event. */
        public AuditEvent build() {
            return new AuditEvent(time, action, outcome, fields, authenticatedPeer);
        }
    }
}
