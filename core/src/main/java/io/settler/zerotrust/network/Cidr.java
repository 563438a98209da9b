package io.settler.zerotrust.network;

import java.net.InetAddress;
import java.util.Objects;

/**
 * An IPv4 or IPv6 network in CIDR notation, such as {@code 10.0.0.0/8} or {@code fd00::/8}.
 *
 * <p>A network with host bits set ({@code 10.0.0.1/8}) is refused rather than silently widened:
 * it is almost always a typo. A bare address is a single-host network ({@code /32} or
 * {@code /128}).
 *
 * @param network the network address, with all host bits zero
 * @param prefixLength the number of leading bits that identify the network
 */
public record Cidr(InetAddress network, int prefixLength) {

    /** Validates the prefix length against the address family and the host bits. */
    public Cidr {
        Objects.requireNonNull(network, "network");
        int bits = network.getAddress().length * 8;
        if (prefixLength < 0 || prefixLength > bits) {
            throw new IllegalArgumentException("prefix length must be between 0 and " + bits + "; got " + prefixLength);
        }
        byte[] bytes = network.getAddress();
        for (int i = prefixLength; i < bits; i++) {
            if ((bytes[i / 8] & (0x80 >>> (i % 8))) != 0) {
                throw new IllegalArgumentException(network.getHostAddress() + "/" + prefixLength
                        + " has host bits set; write the network address (e.g. " + masked(bytes, prefixLength) + ")");
            }
        }
    }

    /**
     * Parses {@code address/prefix} or a bare address.
     *
     * @param text e.g. {@code 10.0.0.0/8}, {@code 2001:db8::/32} or {@code 127.0.0.1}
     * @return the network
     * @throws IllegalArgumentException if the text is not valid CIDR
     */
    public static Cidr parse(String text) {
        Objects.requireNonNull(text, "text");
        int slash = text.indexOf('/');
        InetAddress address = IpAddressLiteral.parse(slash < 0 ? text : text.substring(0, slash));
        int bits = address.getAddress().length * 8;
        if (slash < 0) {
            return new Cidr(address, bits);
        }
        String prefix = text.substring(slash + 1);
        if (!prefix.matches("\\d{1,3}")) {
            throw new IllegalArgumentException("not a CIDR prefix length: " + IpAddressLiteral.printable(text));
        }
        return new Cidr(address, Integer.parseInt(prefix));
    }

    /** Whether {@code address} is in this network; an IPv4 address is never in an IPv6 network. */
    public boolean contains(InetAddress address) {
        byte[] candidate = address.getAddress();
        byte[] net = network.getAddress();
        if (candidate.length != net.length) {
            return false;
        }
        int fullBytes = prefixLength / 8;
        for (int i = 0; i < fullBytes; i++) {
            if (candidate[i] != net[i]) {
                return false;
            }
        }
        int rest = prefixLength % 8;
        return rest == 0 || ((candidate[fullBytes] ^ net[fullBytes]) & (0xff << (8 - rest))) == 0;
    }

    @Override
    public String toString() {
        return network.getHostAddress() + "/" + prefixLength;
    }

    private static String masked(byte[] bytes, int prefixLength) {
        byte[] copy = bytes.clone();
        for (int i = prefixLength; i < copy.length * 8; i++) {
            copy[i / 8] &= (byte) ~(0x80 >>> (i % 8));
        }
        try {
            return InetAddress.getByAddress(copy).getHostAddress() + "/" + prefixLength;
        } catch (java.net.UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }
}
