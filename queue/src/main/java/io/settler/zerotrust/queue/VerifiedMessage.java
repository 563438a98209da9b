package io.settler.zerotrust.queue;

import java.time.Instant;
import java.util.Objects;

/**
 * A message whose envelope verified: what a handler gets. Use {@link #jti()} to make the handler
 * idempotent (at-least-once delivery may hand the same message over again after a crash).
 */
public final class VerifiedMessage {

    private final String queue;
    private final String publisher;
    private final String publisherService;
    private final String jti;
    private final Instant issuedAt;
    private final byte[] payload;

    VerifiedMessage(String queue, String publisher, String publisherService, String jti, Instant issuedAt,
            byte[] payload) {
        this.queue = Objects.requireNonNull(queue, "queue");
        this.publisher = Objects.requireNonNull(publisher, "publisher");
        this.publisherService = Objects.requireNonNull(publisherService, "publisherService");
        this.jti = Objects.requireNonNull(jti, "jti");
        this.issuedAt = Objects.requireNonNull(issuedAt, "issuedAt");
        this.payload = payload;
    }

    /** The queue's name. */
    public String queue() {
        return queue;
    }

    /** The publisher's SPIFFE ID (the token's issuer). */
    public String publisher() {
        return publisher;
    }

    /** The publisher's service name in the policy. */
    public String publisherService() {
        return publisherService;
    }

    /** The token's unique id: the message's idempotency key. */
    public String jti() {
        return jti;
    }

    /** When the publisher sealed it. */
    public Instant issuedAt() {
        return issuedAt;
    }

    /** A copy of the payload. */
    public byte[] payload() {
        return payload.clone();
    }

    @Override
    public String toString() {
        return "VerifiedMessage[queue=" + queue + ", publisher=" + publisher + ", jti=" + jti + ", " + payload.length
                + " bytes]";
    }
}
