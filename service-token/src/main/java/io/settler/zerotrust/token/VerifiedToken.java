package io.settler.zerotrust.token;

import io.settler.zerotrust.identity.ServiceIdentity;
import java.time.Instant;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * A token that passed every check of {@link ServiceTokens#verify}.
 *
 * <p>The calling service is the token's issuer: a trusted {@code iss} whose key signed the token
 * (the key pinned to that issuer), and the token's {@code sub} was refused unless it equals
 * {@code iss}. So {@link #service()} and {@link #issuer()} are always the same identity, the one
 * the key speaks for, never a name the token merely claims. All three identities are typed
 * {@link ServiceIdentity} values: compare them with {@code equals} against identities, or use
 * {@code toString()} for the SPIFFE ID text (as a map key or in a log line).
 *
 * @param service the calling service, e.g. {@code spiffe://example.org/api}: the issuer
 * @param issuer who minted it ({@code iss}), a trusted issuer whose key signed it; equal to {@code service}
 * @param audience this service ({@code aud}); always a SPIFFE ID, since a verifier accepts only tokens for
 *     its own identity
 * @param scopes every scope the token carries, in token order
 * @param issuedAt {@code iat}
 * @param expiresAt {@code exp}
 * @param jti the token id
 * @param keyId the {@code kid} of the key that verified it
 * @param certificateThumbprint the base64url SHA-256 of the certificate it is bound to ({@code cnf x5t#S256})
 * @param claims extra string claims the minter added
 */
public record VerifiedToken(ServiceIdentity service, ServiceIdentity issuer, ServiceIdentity audience,
                            Set<String> scopes, Instant issuedAt, Instant expiresAt, String jti, String keyId,
                            Optional<String> certificateThumbprint,
                            Map<String, String> claims) {

    /**
     * Checks presence and copies the collections.
     *
     * @throws IllegalArgumentException if {@code service} is not {@code issuer}
     */
    public VerifiedToken {
        Objects.requireNonNull(service, "service");
        Objects.requireNonNull(issuer, "issuer");
        Objects.requireNonNull(audience, "audience");
        Objects.requireNonNull(issuedAt, "issuedAt");
        Objects.requireNonNull(expiresAt, "expiresAt");
        Objects.requireNonNull(jti, "jti");
        Objects.requireNonNull(keyId, "keyId");
        Objects.requireNonNull(certificateThumbprint, "certificateThumbprint");
        if (!service.equals(issuer)) {
            throw new IllegalArgumentException("a token speaks only for its issuer: service " + service
                    + " must equal issuer " + issuer);
        }
        scopes = java.util.Collections.unmodifiableSet(new java.util.LinkedHashSet<>(scopes));
        claims = Map.copyOf(claims);
    }

    /** Whether the token carries exactly this scope (no prefixes, no wildcards). */
    public boolean hasScope(String scope) {
        return scopes.contains(scope);
    }
}
