package io.settler.zerotrust.netty;

import io.settler.zerotrust.credentials.CredentialSnapshot;
import io.settler.zerotrust.credentials.CredentialSource;
import io.settler.zerotrust.credentials.TrustBundle;
import io.settler.zerotrust.pki.IssuedCertificate;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

/** A credential source a test rotates by hand, e.g. to a trust bundle without the peer's CA. */
final class RotatingCredentials implements CredentialSource {

    private final AtomicReference<CredentialSnapshot> current;

    RotatingCredentials(IssuedCertificate presented) {
        this.current = new AtomicReference<>(TestPki.credentials(presented).current());
    }

    /** Keeps the identity, replaces what is trusted (a new generation, as a real rotation would). */
    void rotateTrust(TrustBundle trust) {
        current.updateAndGet(old -> new CredentialSnapshot(old.generation() + 1, old.identity(), trust, Instant.now()));
    }

    @Override
    public CredentialSnapshot current() {
        return current.get();
    }

    @Override
    public AutoCloseable onRotation(Consumer<CredentialSnapshot> listener) {
        return () -> { };
    }
}
