package io.settler.zerotrust.token;

import java.security.cert.X509Certificate;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * The {@code x5t#S256} thumbprints of recently seen certificate objects, found by identity: a TLS
 * session hands out the same peer certificate object for every request on a connection, so a
 * certificate-bound token costs one SHA-256 per connection instead of one per request. A slot
 * holds one certificate; a miss (another object, or a collision) computes and replaces it, so a
 * wrong thumbprint is never returned. Lock-free and bounded ({@value #SLOTS} entries).
 */
final class ThumbprintCache {

    static final int SLOTS = 64;

    private final AtomicReferenceArray<Entry> slots = new AtomicReferenceArray<>(SLOTS);

    @SuppressWarnings("ReferenceEquality") // an identity cache: a hit is this very certificate object
    String thumbprint(X509Certificate certificate) {
        int slot = (System.identityHashCode(certificate) & Integer.MAX_VALUE) % SLOTS;
        Entry entry = slots.get(slot);
        if (entry != null && entry.certificate == certificate) {
            return entry.thumbprint;
        }
        String thumbprint = ServiceTokens.thumbprint(certificate);
        slots.set(slot, new Entry(certificate, thumbprint));
        return thumbprint;
    }

    private record Entry(X509Certificate certificate, String thumbprint) {
    }
}
