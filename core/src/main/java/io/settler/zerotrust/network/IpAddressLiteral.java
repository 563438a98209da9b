package io.settler.zerotrust.network;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Objects;
import java.util.regex.Pattern;

/** Parses IP address literals without ever resolving a host name. */
public final class IpAddressLiteral {

    private static final Pattern IPV4 = Pattern.compile("(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)(\\.(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)){3}");
    private static final Pattern IPV6 = Pattern.compile("[0-9a-fA-F:]*:[0-9a-fA-F:.]*");

    private IpAddressLiteral() {
    }

    /**
     * Parses a dotted-quad IPv4 or a textual IPv6 address (no zone id, no brackets).
     *
     * @param literal e.g. {@code 127.0.0.1} or {@code ::1}
     * @return the address; IPv4-mapped IPv6 addresses come back as IPv4 addresses
     * @throws IllegalArgumentException if the text is not such a literal (a host name, say)
     */
    public static InetAddress parse(String literal) {
        Objects.requireNonNull(literal, "literal");
        if (!IPV4.matcher(literal).matches() && !IPV6.matcher(literal).matches()) {
            throw new IllegalArgumentException("not an IP address literal (host names are not accepted here): "
                    + printable(literal));
        }
        try {
            return InetAddress.getByName(literal); // a literal by now: parsed, never looked up
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("not an IP address literal: " + printable(literal), e);
        }
    }

    /** Bounds and cleans user text before it goes into an error message. */
    static String printable(String text) {
        String shown = text.length() > 64 ? text.substring(0, 64) + "..." : text;
        return "'" + shown.replaceAll("[^\\x20-\\x7e]", "?") + "'";
    }
}
