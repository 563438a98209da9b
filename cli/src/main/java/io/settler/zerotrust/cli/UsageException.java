package io.settler.zerotrust.cli;

import org.jspecify.annotations.Nullable;

/** The command line asks for something that cannot be done as asked (exit 2); the message says what to fix. */
final class UsageException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    UsageException(String message) {
        super(message);
    }

    /** A usage error explained by {@code cause}, whose message (the library's, saying what to fix) is used if none. */
    UsageException(@Nullable String message, Throwable cause) {
        super(message == null ? cause.toString() : message, cause);
    }
}
