package io.settler.zerotrust.network;

import io.settler.zerotrust.audit.LogSafe;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Objects;
import java.util.regex.Pattern;

/** Parses IP address literals without ever resolving a host name. */
public final class IpAddressLiteral {

    private static final Pattern IPV4 =
            Pattern.compile("(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)(\\.(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)){3}");
    private static final Pattern IPV6 = Pattern.compile("[0-9a-fA-F:]*:[0-9a-fA-F:.]*");

    private IpAddressLiteral() {
    }

    /**
     * Parses a dotted-quad IPv4 address without leading zeros, or a textual IPv6 address (no zone
     * id; brackets allowed).
     *
     * @param literal e.g. {@code 127.0.0.1}, {@code ::1} or {@code [::1]}
     * @return the address; IPv4-mapped IPv6 addresses come back as IPv4 addresses
     * @throws IllegalArgumentException if the text is not such a literal (a host name, say)
     */
    public static InetAddress parse(String literal) {
        Objects.requireNonNull(literal, "literal");
        String bare = literal.length() > 2 && literal.startsWith("[") && literal.endsWith("]")
                ? literal.substring(1, literal.length() - 1) : literal;
        if (!IPV4.matcher(bare).matches() && !IPV6.matcher(bare).matches()) {
            throw new IllegalArgumentException("not an IP address literal (host names are not accepted here): "
                    + printable(literal));
        }
        try {
            return InetAddress.getByName(bare); // a literal by now: parsed, never looked up
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("not an IP address literal: " + printable(literal), e);
        }
    }

    static String printable(String text) {
        return "'" + LogSafe.text(text) + "'";
    }
}
