package io.settler.zerotrust.token;

import java.time.Instant;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * A token that passed every check of {@link ServiceTokens#verify}.
 *
 * @param service the calling service ({@code sub}), e.g. {@code spiffe://example.org/api}
 * @param issuer who minted it ({@code iss}), a trusted issuer
 * @param audience this service ({@code aud})
 * @param scopes every scope the token carries, in token order
 * @param issuedAt {@code iat}
 * @param expiresAt {@code exp}
 * @param jti the token id
 * @param keyId the {@code kid} of the key that verified it
 * @param certificateThumbprint the base64url SHA-256 of the certificate it is bound to ({@code cnf x5t#S256})
 * @param claims extra string claims the minter added
 */
public record VerifiedToken(String service, String issuer, String audience, Set<String> scopes, Instant issuedAt,
                            Instant expiresAt, String jti, String keyId, Optional<String> certificateThumbprint,
                            Map<String, String> claims) {

    /** Checks presence and copies the collections. */
    public VerifiedToken {
        Objects.requireNonNull(service, "service");
        Objects.requireNonNull(issuer, "issuer");
        Objects.requireNonNull(audience, "audience");
        Objects.requireNonNull(issuedAt, "issuedAt");
        Objects.requireNonNull(expiresAt, "expiresAt");
        Objects.requireNonNull(jti, "jti");
        Objects.requireNonNull(keyId, "keyId");
        Objects.requireNonNull(certificateThumbprint, "certificateThumbprint");
        scopes = java.util.Collections.unmodifiableSet(new java.util.LinkedHashSet<>(scopes));
        claims = Map.copyOf(claims);
    }

    /** Whether the token carries exactly this scope (no prefixes, no wildcards). */
    public boolean hasScope(String scope) {
        return scopes.contains(scope);
    }
}
