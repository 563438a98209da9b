package io.settler.zerotrust.audit;

import org.jspecify.annotations.Nullable;

/**
 * Makes text from outside (certificate names, file names, peer input) safe for one line of a log
 * or an exception message: control and non-ASCII characters become {@code \\uXXXX}, so a hostile
 * value cannot forge log lines, and long values are cut.
 */
public final class LogSafe {

    /** The longest text kept, in characters; longer text ends with {@code ...}. */
    public static final int MAX_LENGTH = 300;

    private LogSafe() {
    }

    /** The text with control and non-ASCII characters escaped, cut after {@link #MAX_LENGTH} characters. */
    public static String text(@Nullable String text) {
        return escape(text, MAX_LENGTH);
    }

    /**
     * The whole text with control and non-ASCII characters escaped, not cut: for a message built
     * by this library, whose outside values went through {@link #text(String)} already, so that
     * one it missed still cannot break the line. Escaping is idempotent: escaped text is printable
     * ASCII and passes unchanged.
     */
    public static String line(@Nullable String text) {
        return escape(text, Integer.MAX_VALUE);
    }

    private static String escape(@Nullable String text, int maxLength) {
        if (text == null) {
            return "null";
        }
        int end = Math.min(text.length(), maxLength);
        StringBuilder out = new StringBuilder(end + 8);
        for (int i = 0; i < end; i++) {
            out.append(character(text.charAt(i)));
        }
        if (text.length() > maxLength) {
            out.append("...");
        }
        return out.toString();
    }

    /** One character, escaped unless it is printable ASCII. */
    public static String character(char c) {
        return c >= 0x20 && c < 0x7f ? String.valueOf(c) : String.format("\\u%04x", (int) c);
    }
}
