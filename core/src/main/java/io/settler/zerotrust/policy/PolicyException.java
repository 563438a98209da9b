package io.settler.zerotrust.policy;

import io.settler.zerotrust.audit.Refusal;
import java.util.Objects;

/** A policy that cannot be loaded or built; the message names the place (file and JSON path) and the fix. */
public final class PolicyException extends RuntimeException implements Refusal {

    private static final long serialVersionUID = 1L;

    /** What is wrong with the policy. */
    public enum Reason {
        /** The file cannot be read. */
        FILE_UNREADABLE,
        /** The text is not JSON, or is too large or too deeply nested. */
        MALFORMED_JSON,
        /** A field this policy format does not know (usually a typo). */
        UNKNOWN_FIELD,
        /** A required field is absent. */
        MISSING_FIELD,
        /** A field has a value of the wrong type or form (a bad scope, network or identity). */
        INVALID_VALUE,
        /** A rule names a service the policy does not define. */
        UNKNOWN_SERVICE,
        /**
         * A list that limits a rule is empty, e.g. {@code "networks": []} from a template that
         * rendered nothing: an empty list never means "any", so it is refused rather than read as
         * no limit. Leave the key out, or list what is meant ({@code 0.0.0.0/0} and {@code ::/0}).
         */
        EMPTY_LIST,
        /** Two services share a name or an identity. */
        DUPLICATE_SERVICE,
        /**
         * A service name the rendered server configuration would read as more than one service
         * ({@code all}, {@code public}, {@code default}, a reserved word, a {@code pg_} name); see
         * {@link ReservedNames}.
         */
        RESERVED_NAME
    }

    private final Reason reason;

    PolicyException(Reason reason, String message) {
        super(message);
        this.reason = Objects.requireNonNull(reason, "reason");
    }

    PolicyException(Reason reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = Objects.requireNonNull(reason, "reason");
    }

    /** What is wrong. */
    @Override
    public Reason reason() {
        return reason;
    }
}
