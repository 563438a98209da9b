package io.settler.zerotrust.token;

import io.settler.zerotrust.audit.LogSafe;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * What to mint, beyond audience and scopes: a lifetime, extra string claims, and a certificate
 * to bind the token to (RFC 8705; the token then verifies only over a connection whose peer
 * presents that certificate, and never outlives it).
 *
 * <pre>{@code
 * String token = tokens.mint(TokenRequest.to("spiffe://example.org/db-proxy")
 *         .scopes("db:read").lifetime(Duration.ofMinutes(2)).claim("tenant", "t-42")
 *         .boundTo(myCertificate).build());
 * }</pre>
 */
public final class TokenRequest {

    private final String audience;
    private final Set<String> scopes;
    private final @Nullable Duration lifetime;
    private final Map<String, String> claims;
    private final @Nullable X509Certificate certificate;

    private TokenRequest(Builder builder) {
        this.audience = builder.audience;
        this.scopes = Collections.unmodifiableSet(new LinkedHashSet<>(builder.scopes));
        this.lifetime = builder.lifetime;
        this.claims = Collections.unmodifiableMap(new LinkedHashMap<>(builder.claims));
        this.certificate = builder.certificate;
    }

    /** Starts a request for a token to {@code audience}, e.g. {@code spiffe://example.org/db-proxy}. */
    public static Builder to(String audience) {
        return new Builder(audience);
    }

    /** The audience, the one service the token is for. */
    public String audience() {
        return audience;
    }

    /** The scopes asked for. */
    public Set<String> scopes() {
        return scopes;
    }

    /** The lifetime asked for; empty for the minter's default. */
    public Optional<Duration> lifetime() {
        return Optional.ofNullable(lifetime);
    }

    /** Extra string claims. */
    public Map<String, String> claims() {
        return claims;
    }

    /** The certificate to bind the token to. */
    public Optional<X509Certificate> certificate() {
        return Optional.ofNullable(certificate);
    }

    /** Collects a request. Not thread-safe. */
    public static final class Builder {
        private final String audience;
        private final Set<String> scopes = new LinkedHashSet<>();
        private final Map<String, String> claims = new LinkedHashMap<>();
        private @Nullable Duration lifetime;
        private @Nullable X509Certificate certificate;

        private Builder(String audience) {
            if (audience == null || audience.isBlank() || audience.length() > 2048) {
                throw invalid("the audience must be the target service's identity, 1 to 2048 characters");
            }
            this.audience = audience;
        }

        /** Adds scopes, e.g. {@code db:read}. */
        public Builder scopes(String... scopes) {
            return scopes(List.of(scopes));
        }

        /** Adds scopes. */
        public Builder scopes(Collection<String> scopes) {
            for (String scope : scopes) {
                if (scope == null || scope.isEmpty() || scope.length() > 128
                        || !scope.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
                    throw invalid("a scope is 1 to 128 printable ASCII characters without spaces, e.g. db:read");
                }
                this.scopes.add(scope);
            }
            return this;
        }

        /** The lifetime: positive, at most the minter's maximum; rounded up to whole seconds. */
        public Builder lifetime(Duration lifetime) {
            this.lifetime = TokenDurations.wholeSecondsRoundedUp(TokenDurations.positive(
                    ServiceTokenException.Reason.INVALID_REQUEST, "lifetime", lifetime));
            return this;
        }

        /**
         * Adds an extra string claim; the registered names (iss, sub, aud, iat, nbf, exp, jti, scope, cnf)
         * are refused.
         */
        public Builder claim(String name, String value) {
            Objects.requireNonNull(value, "value");
            if (name == null || name.isEmpty() || TokenJson.REGISTERED.contains(name)) {
                throw invalid("'" + LogSafe.text(name) + "' cannot be an extra claim; the registered claims "
                        + TokenJson.REGISTERED + " are set by the minter");
            }
            claims.put(name, value);
            return this;
        }

        /** Binds the token to this certificate, normally the caller's own mTLS certificate. */
        public Builder boundTo(X509Certificate certificate) {
            this.certificate = Objects.requireNonNull(certificate, "certificate");
            return this;
        }

        /** The request. */
        public TokenRequest build() {
            return new TokenRequest(this);
        }

        private static ServiceTokenException invalid(String message) {
            return new ServiceTokenException(ServiceTokenException.Reason.INVALID_REQUEST, message);
        }
    }
}
