package io.settler.zerotrust.spring;

import io.settler.zerotrust.audit.Refusal;
import java.io.IOException;
import java.util.Objects;

/**
 * An outgoing request of a {@link ZeroTrustClient} that was refused before anything was sent:
 * Spring's clients wrap it in a {@code ResourceAccessException}. Recorded as a
 * {@code spring.client.refused} audit event. A server that does not prove the expected identity is
 * refused in the handshake instead ({@code SSLHandshakeException}, audited as {@code peer.refused}).
 */
public final class ZeroTrustClientException extends IOException implements Refusal {

    private static final long serialVersionUID = 1L;

    /** Why the request was not sent. */
    public enum Reason {
        /** The URL is not {@code https}: the request and its token would travel in plaintext. */
        PLAINTEXT_URL
    }

    private final Reason reason;

    /**
     * A refused request.
     *
     * @param reason why
     * @param message what was refused and what to do instead
     */
    public ZeroTrustClientException(Reason reason, String message) {
        super(message);
        this.reason = Objects.requireNonNull(reason, "reason");
    }

    @Override
    public Reason reason() {
        return reason;
    }
}
