package io.settler.zerotrust.token;

import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jspecify.annotations.Nullable;

/**
 * The caller's side: one token per (audience, scopes), reused until {@link Builder#renewAt} of its
 * lifetime has passed (default 80 %), then renewed by exactly one thread while the others keep
 * using the still-valid token; only when a token is about to expire do callers wait for the new
 * one. No thundering herd, no token minted per request.
 *
 * <pre>{@code
 * TokenSource tokens = TokenSource.builder(api).build();
 * request.header("Authorization", "Bearer " + tokens.token("spiffe://example.org/db-proxy", "db:read"));
 * }</pre>
 *
 * <p>Certificate-bound tokens ({@link #boundToken}) are kept per certificate too: after a
 * rotation the caller passes its new certificate, gets a token bound to it, and the tokens bound to
 * the old certificate for the same audience and scopes are dropped.
 *
 * <p>Thread-safe; renewal times follow the minter's clock. It holds one entry per distinct
 * (audience, scopes, bound certificate) asked for.
 */
public final class TokenSource {

    /** Below this much remaining lifetime a token is not handed out any more. */
    private static final long MIN_REMAINING_MILLIS = 2_000;

    /** {@code certificate} is null for an unbound token. */
    private record Key(String audience, List<String> scopes, @Nullable X509Certificate certificate) {
        boolean sameRequestOtherCertificate(Key other) {
            return audience.equals(other.audience) && scopes.equals(other.scopes)
                    && certificate != null && !certificate.equals(other.certificate);
        }
    }

    private static final class Entry {
        final String token;
        final long renewAt;
        final long usableUntil;
        final AtomicBoolean renewing = new AtomicBoolean();

        Entry(String token, long renewAt, long usableUntil) {
            this.token = token;
            this.renewAt = renewAt;
            this.usableUntil = usableUntil;
        }
    }

    private final ServiceTokens minter;
    private final double renewAt;
    private final @Nullable Duration lifetime;
    private final Clock clock;
    private final ConcurrentHashMap<Key, Entry> tokens = new ConcurrentHashMap<>();

    private TokenSource(Builder builder) {
        this.minter = builder.minter;
        this.renewAt = builder.renewAt;
        this.lifetime = builder.lifetime;
        this.clock = builder.minter.clock();
    }

    /** Starts a source that mints with {@code minter}. */
    public static Builder builder(ServiceTokens minter) {
        return new Builder(minter);
    }

    /** A valid token for the audience with these scopes. */
    public String token(String audience, String... scopes) {
        return token(audience, List.of(scopes));
    }

    /**
     * A valid token for the audience with these scopes.
     *
     * @throws ServiceTokenException if minting fails (e.g. the policy does not grant a scope)
     */
    public String token(String audience, Collection<String> scopes) {
        return token(new Key(Objects.requireNonNull(audience, "audience"), List.copyOf(new TreeSet<>(scopes)), null));
    }

    /**
     * A valid token for the audience with these scopes, bound to {@code certificate} (RFC 8705):
     * normally the caller's own current mTLS certificate, so the token only works on connections
     * that present it, and never outlives it. Passing a new certificate after a rotation mints a
     * token bound to it and forgets those bound to the previous one.
     *
     * @throws ServiceTokenException if minting fails (e.g. the certificate expired, or the policy
     *     does not grant a scope)
     */
    public String boundToken(X509Certificate certificate, String audience, String... scopes) {
        Key key = new Key(Objects.requireNonNull(audience, "audience"), List.copyOf(new TreeSet<>(List.of(scopes))),
                Objects.requireNonNull(certificate, "certificate"));
        boolean newCertificate = !tokens.containsKey(key);
        String token = token(key);
        if (newCertificate) { // a rotation (or the first call): forget tokens bound to earlier certificates
            tokens.keySet().removeIf(old -> old.sameRequestOtherCertificate(key));
        }
        return token;
    }

    private String token(Key key) {
        Entry entry = tokens.get(key);
        long now = clock.millis();
        if (entry != null && now < entry.usableUntil) {
            if (now < entry.renewAt || !entry.renewing.compareAndSet(false, true)) {
                return entry.token; // fresh, or another thread is renewing it
            }
            try {
                Entry fresh = mint(key);
                tokens.put(key, fresh);
                return fresh.token;
            } catch (RuntimeException e) {
                entry.renewing.set(false);
                throw e;
            }
        }
        // None yet, or about to expire: the first thread mints, the others wait for it.
        return tokens.compute(key, (k, old) -> old != null && clock.millis() < old.renewAt ? old : mint(k)).token;
    }

    private Entry mint(Key key) {
        TokenRequest.Builder request = TokenRequest.to(key.audience()).scopes(key.scopes());
        if (key.certificate() != null) {
            request.boundTo(key.certificate());
        }
        if (lifetime != null) {
            request.lifetime(lifetime);
        }
        ServiceTokens.Minted minted = minter.mintToken(request.build());
        long issued = minted.issuedAt().toEpochMilli();
        long expires = minted.expiresAt().toEpochMilli();
        return new Entry(minted.token(), issued + (long) ((expires - issued) * renewAt),
                Math.max(issued, expires - MIN_REMAINING_MILLIS));
    }

    /** Configures a {@link TokenSource}. Not thread-safe. */
    public static final class Builder {
        private final ServiceTokens minter;
        private double renewAt = 0.8;
        private @Nullable Duration lifetime;

        private Builder(ServiceTokens minter) {
            this.minter = Objects.requireNonNull(minter, "minter");
        }

        /** The fraction of a token's lifetime after which it is renewed (default 0.8). */
        public Builder renewAt(double fraction) {
            if (!(fraction >= 0.1 && fraction <= 0.95)) {
                throw new ServiceTokenException(ServiceTokenException.Reason.INVALID_SETTING,
                        "renew between 10 % and 95 % of a token's lifetime; got " + fraction);
            }
            this.renewAt = fraction;
            return this;
        }

        /**
         * The lifetime to ask for (default: the minter's default lifetime); positive, rounded up to
         * whole seconds, at most the minter's maximum (checked when a token is minted).
         */
        public Builder lifetime(Duration lifetime) {
            this.lifetime = TokenDurations.wholeSecondsRoundedUp(TokenDurations.positive(
                    ServiceTokenException.Reason.INVALID_SETTING, "lifetime", lifetime));
            return this;
        }

        /** The source. */
        public TokenSource build() {
            return new TokenSource(this);
        }
    }
}
