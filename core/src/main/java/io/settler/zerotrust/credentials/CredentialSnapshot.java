package io.settler.zerotrust.credentials;

import java.time.Instant;
import java.util.Objects;

/**
 * One consistent set of credentials: what a service presents and what it trusts, as loaded and
 * validated together. A rotation publishes a new snapshot; a snapshot never changes.
 *
 * @param generation increases by one with each rotation; names the key-manager alias
 * @param identity what the service presents
 * @param trust the anchors its peers must chain to
 * @param loadedAt when this snapshot was validated and published
 */
public record CredentialSnapshot(long generation, TlsIdentity identity, TrustBundle trust, Instant loadedAt) {

    /** Checks for nulls. */
    public CredentialSnapshot {
        Objects.requireNonNull(identity, "identity");
        Objects.requireNonNull(trust, "trust");
        Objects.requireNonNull(loadedAt, "loadedAt");
    }
}
