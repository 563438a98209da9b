package io.settler.zerotrust.credentials;

import java.time.Instant;
import java.util.function.Consumer;

/**
 * Where transports get their credentials from: always a complete, validated
 * {@link CredentialSnapshot}, and a notice when a new one replaces it, so connection pools can
 * recycle connections that still carry the old identity.
 *
 * <p>Implementations are thread-safe; {@link #current()} is called on every handshake and must be
 * cheap (a volatile read).
 */
public interface CredentialSource {

    /** The snapshot new handshakes use. */
    CredentialSnapshot current();

    /**
     * Registers a listener called after each rotation with the new snapshot. Listeners run on the
     * rotating thread and must not block.
     *
     * @return a handle that removes the listener when closed
     */
    AutoCloseable onRotation(Consumer<CredentialSnapshot> listener);

    /**
     * A source that never rotates: for tests, short-lived jobs and credentials managed elsewhere.
     *
     * @param identity what the service presents
     * @param trust what it trusts
     * @return the source
     */
    static CredentialSource fixed(TlsIdentity identity, TrustBundle trust) {
        CredentialSnapshot snapshot = new CredentialSnapshot(1, identity, trust, Instant.now());
        return new CredentialSource() {
            @Override
            public CredentialSnapshot current() {
                return snapshot;
            }

            @Override
            public AutoCloseable onRotation(Consumer<CredentialSnapshot> listener) {
                return () -> { };
            }

            @Override
            public String toString() {
                return "CredentialSource.fixed[" + identity + "]";
            }
        };
    }
}
