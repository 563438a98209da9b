package io.settler.zerotrust.authz;

import io.settler.zerotrust.identity.ServiceIdentity;
import java.net.InetAddress;
import java.util.Objects;
import java.util.Optional;

/**
 * What is known about an authenticated peer when it is authorized: the identity from its verified
 * certificate (empty when the certificate carries no SPIFFE ID) and the address it connects from
 * (empty when the transport does not tell).
 *
 * @param identity the verified service identity
 * @param address the remote address
 */
public record Peer(Optional<ServiceIdentity> identity, Optional<InetAddress> address) {

    /** Checks for nulls. */
    public Peer {
        Objects.requireNonNull(identity, "identity");
        Objects.requireNonNull(address, "address");
    }

    /** A peer with a known identity and address. */
    public static Peer of(ServiceIdentity identity, InetAddress address) {
        return new Peer(Optional.of(identity), Optional.of(address));
    }

    /** A peer with a known identity whose address is not known. */
    public static Peer of(ServiceIdentity identity) {
        return new Peer(Optional.of(identity), Optional.empty());
    }
}
