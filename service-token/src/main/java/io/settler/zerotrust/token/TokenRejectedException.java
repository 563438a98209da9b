package io.settler.zerotrust.token;

import io.settler.zerotrust.audit.Refusal;
import java.util.Objects;

/**
 * A token that did not pass {@link ServiceTokens#verify}. The message says what was wrong and what
 * to fix; it never holds the token, a signature or key material. Every rejection is also recorded
 * as a {@code token.rejected} audit event.
 *
 * <p>Rejections carry no stack trace: they are expected under attack and must stay cheap.
 */
public final class TokenRejectedException extends RuntimeException implements Refusal {

    private static final long serialVersionUID = 1L;

    /** Why a token was rejected. */
    public enum Reason {
        /** Not a compact JWS of canonical base64url JSON, or a claim of the wrong type. */
        MALFORMED,
        /** {@code none}, an algorithm other than the one pinned to the key, or a header we refuse. */
        UNSUPPORTED_ALGORITHM,
        /** No trusted key has this {@code kid}. */
        UNKNOWN_KEY,
        /** The signature does not verify, or has the wrong length. */
        BAD_SIGNATURE,
        /** {@code exp} has passed (beyond the allowed clock skew). */
        EXPIRED,
        /** {@code nbf} or {@code iat} lies in the future (beyond the allowed clock skew). */
        NOT_YET_VALID,
        /** {@code exp - iat} is longer than this verifier's maximum lifetime. */
        LIFETIME_TOO_LONG,
        /** {@code aud} is not exactly this service. */
        WRONG_AUDIENCE,
        /**
         * {@code iss} is not trusted, the key is not pinned to it (or to no issuer while several are
         * trusted), or {@code sub} names another service than {@code iss}.
         */
        WRONG_ISSUER,
        /** The header's {@code typ} is not {@code svc+jwt}. */
        WRONG_TYPE,
        /** A required claim is absent. */
        MISSING_CLAIM,
        /** The token lacks a scope this call requires. */
        INSUFFICIENT_SCOPE,
        /** This issuer's {@code jti} was already used (replay protection is on). */
        REPLAYED,
        /** The replay guard could not be asked (e.g. Redis unreachable): refused, never waved through. */
        REPLAY_CHECK_FAILED,
        /** The token is bound to another certificate than the peer's, or the peer presented none. */
        CERTIFICATE_MISMATCH,
        /** The token is longer than the size cap; refused before any parsing. */
        TOO_LARGE
    }

    private final Reason reason;

    TokenRejectedException(Reason reason, String message) {
        super(message, null, false, false);
        this.reason = Objects.requireNonNull(reason, "reason");
    }

    /** Why the token was rejected. */
    @Override
    public Reason reason() {
        return reason;
    }
}
