package io.settler.zerotrust.token;

import java.util.Optional;

/**
 * Where a verifier finds the key for a token's {@code kid}: a fixed {@link KeySet}, or a
 * {@link JwksSource} that refreshes. Implementations must be thread-safe and fast on a hit.
 */
@FunctionalInterface
public interface KeySource {

    /** The trusted key with this id, if any; a source that fetches may wait (bounded) for a fetch. */
    Optional<TokenKey> key(String kid);

    /**
     * The trusted key with this id if it is held now, never waiting: what a thread that must not
     * block (an event loop) asks. A source that fetches overrides it (and may start a background
     * fetch on a miss); the default, {@link #key}, is right for a source that never fetches.
     */
    default Optional<TokenKey> heldKey(String kid) {
        return key(kid);
    }

    /** Whether a fetch that may bring new keys is under way (default: never). */
    default boolean fetching() {
        return false;
    }
}
