package io.settler.zerotrust.cli.render;

import java.util.Objects;

/** The server configuration cannot be rendered or written; the message says what to fix. */
public final class RenderException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** What went wrong. */
    public enum Reason {
        /** The directory to write into is a file (or lies under one). */
        NOT_A_DIRECTORY,
        /** The policy uses a database ({@code db:} scopes) but names no database service to render it for. */
        NO_DATABASE_SERVICE,
        /** A file or directory cannot be read or written. */
        IO_FAILED
    }

    private final Reason reason;

    /**
     * A refusal.
     *
     * @param reason what went wrong
     * @param message what, where, and what to do about it
     */
    public RenderException(Reason reason, String message) {
        super(message);
        this.reason = Objects.requireNonNull(reason, "reason");
    }

    /**
     * A refusal caused by {@code cause}.
     *
     * @param reason what went wrong
     * @param message what, where, and what to do about it
     * @param cause the underlying failure
     */
    public RenderException(Reason reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = Objects.requireNonNull(reason, "reason");
    }

    /** What went wrong. */
    public Reason reason() {
        return reason;
    }
}
