package io.settler.zerotrust.testkit;

import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * A test server could not be found, started, stopped or driven. The message says what to do; the
 * {@link #reason()} says which kind of failure it was.
 */
public final class TestkitException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** What went wrong. */
    public enum Reason {
        /** A server binary or helper tool is not installed; the message names the package that provides it. */
        MISSING_BINARY,
        /** The machine cannot host the server as asked (e.g. running as root with no unprivileged OS user). */
        UNSUPPORTED_ENVIRONMENT,
        /** The server did not become ready in time or exited; the message carries the tail of its log. */
        START_FAILED,
        /** An administrative command (SQL, ACL) was refused or failed. */
        COMMAND_FAILED,
        /** Reading or writing the server's files failed. */
        IO_FAILED
    }

    private final Reason reason;

    TestkitException(Reason reason, String message) {
        super(message);
        this.reason = Objects.requireNonNull(reason, "reason");
    }

    TestkitException(Reason reason, String message, @Nullable Throwable cause) {
        super(message, cause);
        this.reason = Objects.requireNonNull(reason, "reason");
    }

    /** The kind of failure. */
    public Reason reason() {
        return reason;
    }
}
