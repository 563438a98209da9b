package io.settler.zerotrust.trust;

import io.settler.zerotrust.identity.ServiceIdentity;
import java.net.InetAddress;
import java.util.Arrays;
import java.util.Objects;

/**
 * The name a client expects its server to prove: a DNS host name, an IP address or a SPIFFE
 * service identity. Each form is matched only against its own kind of subject alternative name;
 * the subject common name is never consulted.
 */
public sealed interface PeerName permits PeerName.Dns, PeerName.Ip, PeerName.Identity {

    /**
     * A DNS host name, matched against the leaf's DNS subject alternative names (RFC 6125).
     *
     * @param name the host name as given: ASCII, case-insensitive, with an optional trailing dot;
     *     internationalized names must be given in their A-label ({@code xn--}) form
     * @return the name, lower-cased and without a trailing dot
     * @throws IllegalArgumentException if the text is not a valid host name (an IP literal, an
     *     empty label, a character other than letters, digits and '-', a wildcard, ...)
     */
    static PeerName dns(String name) {
        return new Dns(name);
    }

    /**
     * An IP address, matched byte for byte against the leaf's IP address subject alternative
     * names. Literals only: nothing is looked up.
     *
     * @param address an IPv4 dotted quad without leading zeros ({@code 10.0.0.1}) or an IPv6
     *     literal ({@code ::1}, optionally in brackets)
     * @return the address
     * @throws IllegalArgumentException if the text is not an IP literal
     */
    static PeerName ip(String address) {
        return new Ip(DnsNames.parseIpLiteral(address));
    }

    /**
     * A SPIFFE service identity, matched exactly against the leaf's URI subject alternative name.
     *
     * @param identity the expected identity
     * @return the name
     */
    static PeerName identity(ServiceIdentity identity) {
        return new Identity(identity);
    }

    /**
     * Picks the form from the text: {@code spiffe:...} (any case) is an identity, an IP literal is
     * an address, anything else must be a DNS host name. A mistyped SPIFFE ID such as
     * {@code spiffe:/example.org/api} thus gets the SPIFFE ID parser's error, not the IP parser's.
     *
     * @param text the expected name
     * @return the name
     * @throws IllegalArgumentException if the text fits none of the forms
     * @throws io.settler.zerotrust.identity.InvalidServiceIdentityException if it starts with
     *     {@code spiffe:} but is not a valid SPIFFE ID
     */
    static PeerName parse(String text) {
        Objects.requireNonNull(text, "text");
        if (text.regionMatches(true, 0, "spiffe:", 0, "spiffe:".length())) {
            return identity(ServiceIdentity.parse(text));
        }
        if (DnsNames.looksLikeIpLiteral(text)) {
            return ip(text);
        }
        return dns(text);
    }

    /**
     * A DNS host name.
     *
     * @param name the name in canonical form: lower-case ASCII, no trailing dot
     */
    record Dns(String name) implements PeerName {
        /** Validates and canonicalizes the name; see {@link PeerName#dns(String)}. */
        public Dns {
            name = DnsNames.canonicalReferenceName(Objects.requireNonNull(name, "name"));
        }

        @Override
        public String toString() {
            return name;
        }
    }

    /**
     * An IP address.
     *
     * @param address the address
     */
    record Ip(InetAddress address) implements PeerName {
        /** Requires an address; it is never resolved. */
        public Ip {
            Objects.requireNonNull(address, "address");
        }

        /** The address octets: 4 for IPv4, 16 for IPv6. */
        byte[] octets() {
            return address.getAddress();
        }

        boolean matches(byte[] sanOctets) {
            return Arrays.equals(octets(), sanOctets);
        }

        @Override
        public String toString() {
            return address.getHostAddress();
        }
    }

    /**
     * A SPIFFE service identity.
     *
     * @param identity the identity
     */
    record Identity(ServiceIdentity identity) implements PeerName {
        /** Requires an identity. */
        public Identity {
            Objects.requireNonNull(identity, "identity");
        }

        @Override
        public String toString() {
            return identity.toString();
        }
    }
}
