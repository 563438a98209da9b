package io.settler.zerotrust.redis;

import io.settler.zerotrust.audit.Refusal;
import java.util.Objects;

/**
 * A Redis client configuration or connection that was refused. The {@link #reason()} says which
 * rule failed and the message says what to change. Messages never hold passwords, and never echo a
 * URI (it may carry one).
 */
public final class RedisTlsException extends RuntimeException implements Refusal {

    private static final long serialVersionUID = 1L;

    /** Why the client or connection was refused. */
    public enum Reason {
        /** A {@code redis://} (or other non-TLS) URI: the connection would not be encrypted. */
        PLAINTEXT_SCHEME,
        /** A URI asking for peer verification other than FULL, or for STARTTLS. */
        WEAK_VERIFICATION,
        /** A password written into the URI, where it ends up in logs. */
        PASSWORD_IN_URI,
        /** No password source, or one that yields no password. */
        PASSWORD_MISSING,
        /** The password file or environment variable cannot be read. */
        PASSWORD_UNREADABLE,
        /** A setting is absent or invalid (host, port, user, timeouts, a URI that does not parse). */
        INVALID_CONFIGURATION,
        /** The channel negotiated a TLS version that is not allowed (TLS 1.2 without {@code allowTls12()}). */
        PROTOCOL_NOT_ALLOWED,
        /** The TLS handshake failed: the server's certificate or name was refused, or ours was. */
        HANDSHAKE_FAILED,
        /** The server did not accept our ACL user and password. */
        AUTHENTICATION_FAILED,
        /** The connection is authenticated as another ACL user than the one configured. */
        WRONG_USER,
        /** Connecting failed for another reason (refused, timed out, the check after connecting). */
        CONNECTION_FAILED,
        /** A key or key part that cannot be used safely (empty, control characters, too long). */
        INVALID_KEY,
        /**
         * A name or key pattern that would take something reserved: a service rendered as the
         * {@code default} ACL user, or a scope whose keys would reach the queue's keys.
         */
        RESERVED_NAME
    }

    private final Reason reason;

    RedisTlsException(Reason reason, String message) {
        super(message);
        this.reason = Objects.requireNonNull(reason, "reason");
    }

    RedisTlsException(Reason reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = Objects.requireNonNull(reason, "reason");
    }

    /** Which rule failed. */
    @Override
    public Reason reason() {
        return reason;
    }
}
