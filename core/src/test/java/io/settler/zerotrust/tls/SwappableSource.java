package io.settler.zerotrust.tls;

import io.settler.zerotrust.credentials.CredentialSnapshot;
import io.settler.zerotrust.credentials.CredentialSource;
import io.settler.zerotrust.credentials.TlsIdentity;
import io.settler.zerotrust.credentials.TrustBundle;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

/** A source whose snapshot a test can swap at will. */
final class SwappableSource implements CredentialSource {
    private final AtomicReference<CredentialSnapshot> current;
    private final List<Consumer<CredentialSnapshot>> listeners = new CopyOnWriteArrayList<>();

    SwappableSource(CredentialSnapshot first) {
        this.current = new AtomicReference<>(first);
    }

    @Override
    public CredentialSnapshot current() {
        return current.get();
    }

    @Override
    public AutoCloseable onRotation(Consumer<CredentialSnapshot> listener) {
        listeners.add(listener);
        return () -> listeners.remove(listener);
    }

    void swap(TlsIdentity identity, TrustBundle trust) {
        CredentialSnapshot next = new CredentialSnapshot(current.get().generation() + 1, identity, trust,
                Instant.now());
        current.set(next);
        listeners.forEach(l -> l.accept(next));
    }

    /** Keeps the identity, replaces what is trusted. */
    void swapTrust(TrustBundle trust) {
        swap(current.get().identity(), trust);
    }
}
