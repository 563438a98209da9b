package io.settler.zerotrust.trust;

import io.settler.zerotrust.audit.LogSafe;
import io.settler.zerotrust.network.IpAddressLiteral;
import java.net.InetAddress;
import java.util.Locale;
import java.util.Optional;

/**
 * DNS and IP name syntax and matching (RFC 6125 / RFC 9525 for presented names, RFC 5280 for
 * name constraints). Names are compared as ASCII, case-insensitively; internationalized names only
 * in A-label form, compared as they are.
 */
final class DnsNames {

    private static final int MAX_NAME_LENGTH = 253;
    private static final int MAX_LABEL_LENGTH = 63;

    private DnsNames() {
    }

    /** The reference name a client asked for, lower-cased, one trailing dot removed; or an exception. */
    static String canonicalReferenceName(String name) {
        String canonical = name.endsWith(".") ? name.substring(0, name.length() - 1) : name;
        canonical = canonical.toLowerCase(Locale.ROOT);
        Optional<String> problem = syntaxProblem(canonical, false);
        if (problem.isPresent()) {
            throw new IllegalArgumentException("not a valid DNS host name: '" + printable(name) + "' ("
                    + problem.get() + ")");
        }
        if (looksLikeIpLiteral(canonical)) {
            throw new IllegalArgumentException("'" + printable(name) + "' is an IP address: use PeerName.ip(...)");
        }
        return canonical;
    }

    /**
     * A DNS SAN in canonical (lower-case) form, or empty if it is not a valid host name or a
     * wildcard pattern whose {@code *} is the entire left-most label of a name of 3 or more labels.
     */
    static Optional<String> canonicalPresentedName(String san) {
        String canonical = san.toLowerCase(Locale.ROOT);
        return syntaxProblem(canonical, true).isPresent() ? Optional.empty() : Optional.of(canonical);
    }

    /** Whether a canonical presented name (possibly a wildcard pattern) matches a canonical reference name. */
    static boolean matches(String presented, String reference) {
        if (!presented.startsWith("*.")) {
            return presented.equals(reference);
        }
        String base = presented.substring(1); // ".example.com"
        if (!reference.endsWith(base)) {
            return false;
        }
        String first = reference.substring(0, reference.length() - base.length());
        return !first.isEmpty() && first.indexOf('.') < 0;
    }

    /**
     * Why a lower-case name is not a host name (or, with {@code wildcardAllowed}, a wildcard
     * pattern), or empty if it is one. Labels: 1 to 63 letters, digits and hyphens, no hyphen at
     * either end; at most 253 characters; the last label is not all digits.
     */
    static Optional<String> syntaxProblem(String name, boolean wildcardAllowed) {
        if (name.isEmpty()) {
            return Optional.of("empty");
        }
        if (name.length() > MAX_NAME_LENGTH) {
            return Optional.of("longer than " + MAX_NAME_LENGTH + " characters");
        }
        String[] labels = name.split("\\.", -1);
        for (int i = 0; i < labels.length; i++) {
            String label = labels[i];
            if (i == 0 && label.equals("*") && wildcardAllowed) {
                if (labels.length < 3) {
                    return Optional.of("a wildcard needs at least two labels after it");
                }
                continue;
            }
            Optional<String> problem = labelProblem(label);
            if (problem.isPresent()) {
                return problem;
            }
        }
        String last = labels[labels.length - 1];
        if (last.chars().allMatch(c -> c >= '0' && c <= '9')) {
            return Optional.of("the last label is numeric");
        }
        return Optional.empty();
    }

    private static Optional<String> labelProblem(String label) {
        if (label.isEmpty()) {
            return Optional.of("empty label");
        }
        if (label.length() > MAX_LABEL_LENGTH) {
            return Optional.of("label longer than " + MAX_LABEL_LENGTH + " characters");
        }
        for (int i = 0; i < label.length(); i++) {
            char c = label.charAt(i);
            if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
                return Optional.of("character '" + printable(c) + "' is not a letter, digit or '-'"
                        + (c > 0x7f ? "; give internationalized names as A-labels (xn--...)" : ""));
            }
        }
        if (label.startsWith("-") || label.endsWith("-")) {
            return Optional.of("a label starts or ends with '-'");
        }
        return Optional.empty();
    }

    /** Whether the text has the shape of an IPv4 dotted quad or an IPv6 literal (it may still be invalid). */
    static boolean looksLikeIpLiteral(String text) {
        return text.matches("[0-9]+(\\.[0-9]+){3}") || text.contains(":")
                || (text.startsWith("[") && text.endsWith("]"));
    }

    /** Parses an IP literal strictly; never resolves a name. */
    static InetAddress parseIpLiteral(String text) {
        return IpAddressLiteral.parse(text);
    }

    static String printable(String text) {
        return LogSafe.text(text);
    }

    private static String printable(char c) {
        return LogSafe.character(c);
    }
}
