package io.settler.zerotrust.trust;

import io.settler.zerotrust.identity.ServiceIdentity;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A peer whose certificate chain passed verification: what an authorizer needs to decide whether
 * this peer may do what it asks.
 *
 * @param leaf the peer's own certificate
 * @param path the validated certification path: the leaf first, then the intermediates that were
 *     used (not necessarily all that were presented), ending with the trust anchor
 * @param identity the SPIFFE service identity in the leaf's URI subject alternative name, if it has one
 * @param sha256Fingerprint the SHA-256 hash of the leaf's DER encoding, 64 lower-case hex digits
 */
public record VerifiedPeer(X509Certificate leaf, List<X509Certificate> path, Optional<ServiceIdentity> identity,
                           String sha256Fingerprint) {

    /** Requires every component; copies the path. */
    public VerifiedPeer {
        Objects.requireNonNull(leaf, "leaf");
        path = List.copyOf(path);
        Objects.requireNonNull(identity, "identity");
        Objects.requireNonNull(sha256Fingerprint, "sha256Fingerprint");
        if (path.size() < 2 || !path.get(0).equals(leaf)) {
            throw new IllegalArgumentException("a path starts with the leaf and ends with a trust anchor");
        }
    }

    /** The trust anchor the path ends at. */
    public X509Certificate trustAnchor() {
        return path.get(path.size() - 1);
    }
}
