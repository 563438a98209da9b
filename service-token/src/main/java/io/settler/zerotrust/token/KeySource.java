package io.settler.zerotrust.token;

import java.util.Optional;

/**
 * Where a verifier finds the key for a token's {@code kid}: a fixed {@link KeySet}, or a
 * {@link JwksSource} that refreshes. Implementations must be thread-safe and fast on a hit.
 */
@FunctionalInterface
public interface KeySource {

    /** The trusted key with this id, if any. */
    Optional<TokenKey> key(String kid);
}
