package io.settler.zerotrust.netty;

import io.settler.zerotrust.audit.Refusal;

/** Netty TLS could not be set up as asked; the message says what to change. */
public final class NettyMtlsException extends RuntimeException implements Refusal {

    private static final long serialVersionUID = 1L;

    /** Why. */
    public enum Reason {
        /** {@code Provider.OPENSSL} was asked for and netty-tcnative does not load on this machine. */
        OPENSSL_UNAVAILABLE,
        /** Netty refused the context settings. */
        CONTEXT_FAILED
    }

    private final Reason reason;

    /**
     * @param reason why
     * @param message what happened and what to change
     */
    public NettyMtlsException(Reason reason, String message) {
        super(message);
        this.reason = reason;
    }

    /**
     * @param reason why
     * @param message what happened and what to change
     * @param cause the underlying failure
     */
    public NettyMtlsException(Reason reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = reason;
    }

    /** Why set-up failed. */
    @Override
    public Reason reason() {
        return reason;
    }
}
