package io.settler.zerotrust.token;

import io.settler.zerotrust.audit.Refusal;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * A service-token setting, key, key set or mint request that cannot be used; the message says what
 * to fix and never holds key material. (A token that fails verification is a
 * {@link TokenRejectedException} instead.)
 */
public final class ServiceTokenException extends RuntimeException implements Refusal {

    private static final long serialVersionUID = 1L;

    /** What is wrong. */
    public enum Reason {
        /** A key is too weak, of the wrong type or curve, or its halves do not match. */
        INVALID_KEY,
        /** A JWKS is not valid JSON, holds duplicate members or kids, or a key it may not hold. */
        INVALID_JWKS,
        /** A key's {@code use}, {@code key_ops} or {@code alg} forbids what it is asked to do. */
        KEY_USE_FORBIDDEN,
        /** A setting is missing or out of range. */
        INVALID_SETTING,
        /** A mint request is invalid (audience, scopes, lifetime, claims). */
        INVALID_REQUEST,
        /** The policy does not grant this service a requested scope. */
        SCOPE_NOT_GRANTED,
        /** Minting needs a signing key and none is configured. */
        NO_SIGNING_KEY,
        /** The certificate to bind the token to has expired. */
        CERTIFICATE_EXPIRED,
        /** The key source could not be fetched or parsed. */
        KEY_SOURCE_FAILED
    }

    private final Reason reason;

    ServiceTokenException(Reason reason, String message) {
        super(message);
        this.reason = Objects.requireNonNull(reason, "reason");
    }

    ServiceTokenException(Reason reason, String message, @Nullable Throwable cause) {
        super(message, cause);
        this.reason = Objects.requireNonNull(reason, "reason");
    }

    /** What is wrong. */
    @Override
    public Reason reason() {
        return reason;
    }
}
