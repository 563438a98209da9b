package io.settler.zerotrust.queue;

import io.settler.zerotrust.token.ServiceTokens;
import io.settler.zerotrust.token.TokenRequest;
import java.time.Duration;
import java.util.Objects;

/**
 * Seals payloads for one queue: each envelope gets a fresh one-time token minted by this
 * publisher, with audience {@code spiffe://<trust domain>/queue/<name>}, scope
 * {@code queue:<name>:publish}, a unique {@code jti} and the claim {@code pld} = base64url
 * SHA-256 of the payload. Immutable and thread-safe.
 */
public final class EnvelopeSigner {

    private final ServiceTokens tokens;
    private final String queue;
    private final String audience;
    private final String scope;
    private final Duration lifetime;

    private EnvelopeSigner(Builder builder) {
        this.tokens = builder.tokens;
        this.queue = builder.queue;
        this.audience = Queues.audience(tokens.identity().trustDomain(), queue);
        this.scope = Queues.publishScope(queue);
        this.lifetime = builder.lifetime;
    }

    /**
     * Starts a signer for {@code queue} minting with {@code tokens} (the publisher's own
     * {@link ServiceTokens}, with a signing key; give it the policy so it cannot mint scopes it lacks).
     */
    public static Builder builder(ServiceTokens tokens, String queue) {
        return new Builder(tokens, queue);
    }

    /** The queue's audience, {@code spiffe://<trust domain>/queue/<name>}. */
    public String audience() {
        return audience;
    }

    /** The queue's name. */
    public String queue() {
        return queue;
    }

    /** The publisher's SPIFFE ID. */
    public String publisher() {
        return tokens.identity().toString();
    }

    /**
     * Seals {@code payload} (copied) with a new token.
     *
     * @throws io.settler.zerotrust.token.ServiceTokenException if the policy does not let this
     *     service publish to the queue
     */
    public Envelope seal(byte[] payload) {
        Objects.requireNonNull(payload, "payload");
        byte[] copy = payload.clone();
        String token = tokens.mint(TokenRequest.to(audience).scopes(scope).lifetime(lifetime)
                .claim(Queues.PAYLOAD_DIGEST_CLAIM, Queues.digest(copy)).build());
        return Envelope.of(copy, token);
    }

    @Override
    public String toString() {
        return "EnvelopeSigner[" + tokens.identity() + " -> " + audience + "]";
    }

    /** Settings of an {@link EnvelopeSigner}. */
    public static final class Builder {
        private final ServiceTokens tokens;
        private final String queue;
        private Duration lifetime = Duration.ofMinutes(15);

        private Builder(ServiceTokens tokens, String queue) {
            this.tokens = Objects.requireNonNull(tokens, "tokens");
            this.queue = Queues.checkName(queue);
        }

        /**
         * How long a message stays acceptable (default 15 min): a message a worker first reads
         * later is dead-lettered as expired. At most the verifier's maximum token lifetime.
         */
        public Builder lifetime(Duration lifetime) {
            Objects.requireNonNull(lifetime, "lifetime");
            if (lifetime.compareTo(Duration.ofSeconds(1)) < 0) {
                throw new QueueException(QueueException.Reason.INVALID_CONFIGURATION, "a message lifetime is at"
                        + " least one second; got " + lifetime);
            }
            this.lifetime = lifetime;
            return this;
        }

        /** The signer. */
        public EnvelopeSigner build() {
            return new EnvelopeSigner(this);
        }
    }
}
