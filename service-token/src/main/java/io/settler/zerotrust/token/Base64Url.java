package io.settler.zerotrust.token;

import java.util.Base64;
import org.jspecify.annotations.Nullable;

/**
 * Strict canonical base64url (RFC 7515 section 2): the URL alphabet only, no padding, no line
 * breaks or spaces, and zero unused trailing bits, so each byte string has exactly one encoding.
 * (The JDK decoder accepts padding and non-zero trailing bits.)
 */
final class Base64Url {

    private static final Base64.Encoder ENCODER = Base64.getUrlEncoder().withoutPadding();
    private static final byte[] VALUES = new byte[128];

    static {
        java.util.Arrays.fill(VALUES, (byte) -1);
        String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        for (int i = 0; i < alphabet.length(); i++) {
            VALUES[alphabet.charAt(i)] = (byte) i;
        }
    }

    private Base64Url() {
    }

    static String encode(byte[] bytes) {
        return ENCODER.encodeToString(bytes);
    }

    /**
     * Decodes {@code text[from, to)}.
     *
     * @return the bytes, or {@code null} if the text is empty or not canonical base64url
     */
    static byte @Nullable [] decode(String text, int from, int to) {
        int length = to - from;
        if (length <= 0 || length % 4 == 1) {
            return null;
        }
        byte[] out = new byte[length * 3 / 4];
        int bits = 0;
        int buffered = 0;
        int written = 0;
        for (int i = from; i < to; i++) {
            char c = text.charAt(i);
            int value = c < 128 ? VALUES[c] : -1;
            if (value < 0) {
                return null;
            }
            bits = (bits << 6) | value;
            buffered += 6;
            if (buffered >= 8) {
                buffered -= 8;
                out[written++] = (byte) (bits >> buffered);
                bits &= (1 << buffered) - 1;
            }
        }
        return bits == 0 ? out : null;
    }
}
