package io.settler.zerotrust.queue.rabbitmq;

import io.settler.zerotrust.audit.Refusal;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * A RabbitMQ connection, setting or publish that was refused. {@link #reason()} says which; the
 * message says what to fix.
 */
public final class RabbitMqException extends RuntimeException implements Refusal {

    private static final long serialVersionUID = 1L;

    /** Why. */
    public enum Reason {
        /** A setting would weaken the connection (TLS 1.2, a server context, no SPIFFE ID, a password). */
        INVALID_CONFIGURATION,
        /** The broker could not be reached, refused the TLS handshake, the login or the virtual host. */
        CONNECTION_FAILED,
        /** The broker nacked the publish: it did not take the message. */
        NOT_CONFIRMED,
        /** The confirm did not arrive in time: the message may or may not have been taken. */
        CONFIRM_TIMEOUT,
        /** No queue took the message (the queue or binding is missing): run the setup step. */
        NOT_ROUTED,
        /** The channel failed or was closed by the broker (e.g. a forged user-id, a missing exchange). */
        CHANNEL_FAILED
    }

    private final Reason reason;

    RabbitMqException(Reason reason, String message, @Nullable Throwable cause) {
        super(message, cause);
        this.reason = Objects.requireNonNull(reason, "reason");
    }

    /** Why. */
    @Override
    public Reason reason() {
        return reason;
    }
}
