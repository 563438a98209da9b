package io.settler.zerotrust.credentials;

import java.util.Arrays;
import java.util.List;
import org.bouncycastle.util.io.pem.PemHeader;
import org.bouncycastle.util.io.pem.PemObject;

/**
 * A PEM block whose type says it is a private key, not decoded yet.
 *
 * @param file how messages name the file it came from
 * @param number the block's position in the file, from 1
 * @param block the framed block (type, headers, DER content)
 */
record KeyBlock(String file, int number, PemObject block) {

    /** The PEM type, e.g. {@code RSA PRIVATE KEY}. */
    String type() {
        return block.getType();
    }

    /** Whether the block is encrypted the legacy OpenSSL way ({@code Proc-Type: 4,ENCRYPTED}). */
    boolean legacyEncrypted() {
        return header("Proc-Type").contains("ENCRYPTED");
    }

    /** Whether the key is encrypted in any way we read. */
    boolean encrypted() {
        return legacyEncrypted() || type().equals("ENCRYPTED PRIVATE KEY");
    }

    /** What the block holds, for messages: {@code an encrypted PKCS#8 key}. */
    String format() {
        String legacy = legacyEncrypted() ? "a legacy OpenSSL-encrypted (" + cipher() + ") " : null;
        return switch (type()) {
            case "PRIVATE KEY" -> "an unencrypted PKCS#8 key";
            case "ENCRYPTED PRIVATE KEY" -> "an encrypted PKCS#8 key";
            case "RSA PRIVATE KEY" -> legacy != null ? legacy + "PKCS#1 RSA key" : "a PKCS#1 RSA key";
            case "EC PRIVATE KEY" -> legacy != null ? legacy + "SEC1 EC key" : "a SEC1 EC key";
            case "DSA PRIVATE KEY" -> "a DSA key";
            default -> "a private key in the '" + type() + "' format";
        };
    }

    /** Zeroes the decoded content, best effort, once the key has been read. */
    void wipe() {
        Arrays.fill(block.getContent(), (byte) 0);
    }

    /** The cipher named by {@code DEK-Info} (without its IV). */
    private String cipher() {
        String dek = header("DEK-Info");
        int comma = dek.indexOf(',');
        String name = (comma < 0 ? dek : dek.substring(0, comma)).trim();
        return name.isEmpty() || !name.matches("[A-Za-z0-9-]{1,40}") ? "unknown cipher" : name;
    }

    private String header(String name) {
        List<?> headers = block.getHeaders();
        for (Object header : headers) {
            if (header instanceof PemHeader h && name.equalsIgnoreCase(h.getName()) && h.getValue() != null) {
                return h.getValue();
            }
        }
        return "";
    }
}
