package io.settler.zerotrust.netty;

import io.settler.zerotrust.audit.Refusal;

/**
 * {@link BearerTokens} did not attach a token, and the request was not sent, because the server of
 * the connection is not shown to be the token's audience; the message says what to change. An
 * audit event ({@code token.withheld}) records it too.
 */
public final class TokenWithheldException extends RuntimeException implements Refusal {

    private static final long serialVersionUID = 1L;

    /** Why the token was withheld. */
    public enum Reason {
        /** The server proved another SPIFFE ID than the token's audience. */
        AUDIENCE_MISMATCH,
        /**
         * There is no verified service identity to compare: the server's certificate carries no
         * SPIFFE ID (only host names), or the hook was called without the connection.
         */
        NO_SERVER_IDENTITY
    }

    private final Reason reason;

    /**
     * @param reason why
     * @param message what happened and what to change
     */
    public TokenWithheldException(Reason reason, String message) {
        super(message);
        this.reason = reason;
    }

    /** Why the token was withheld. */
    @Override
    public Reason reason() {
        return reason;
    }
}
