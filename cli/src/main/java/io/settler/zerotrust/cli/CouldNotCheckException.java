package io.settler.zerotrust.cli;

import org.jspecify.annotations.Nullable;

/**
 * A server (or a JWKS endpoint) could not be checked (exit 3): it was not reached, or it refused the
 * TLS handshake, the login or a read the check needs. Neither "in sync" nor "drift"; the message,
 * usually the library's own refusal, says what to fix.
 */
final class CouldNotCheckException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** Explained by {@code cause}, whose message (the library's, saying what to fix) is used if none is given. */
    CouldNotCheckException(@Nullable String message, Throwable cause) {
        super(message == null ? cause.toString() : message, cause);
    }
}
