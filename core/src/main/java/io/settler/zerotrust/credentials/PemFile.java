package io.settler.zerotrust.credentials;

import io.settler.zerotrust.credentials.CredentialException.Reason;
import java.io.CharArrayReader;
import java.io.IOException;
import java.nio.file.Path;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.util.io.pem.PemObject;

/**
 * The blocks of one PEM file, sorted into certificates (decoded, in file order), private keys (kept
 * encoded until a password is at hand) and the types of everything else. Text before, between and
 * after blocks is ignored, as are CR line endings; a block that is truncated or corrupt is refused
 * with its number and type.
 */
final class PemFile {

    private static final Set<String> CERTIFICATE_TYPES = Set.of("CERTIFICATE", "X509 CERTIFICATE");
    private static final String BEGIN = "-----BEGIN ";

    private final String name;
    private final List<X509Certificate> certificates;
    private final List<KeyBlock> keys;
    private final List<String> otherTypes;

    private PemFile(String name, List<X509Certificate> certificates, List<KeyBlock> keys, List<String> otherTypes) {
        this.name = name;
        this.certificates = List.copyOf(certificates);
        this.keys = List.copyOf(keys);
        this.otherTypes = List.copyOf(otherTypes);
    }

    /** Reads and sorts the blocks of {@code file}. */
    static PemFile read(Path file) {
        byte[] bytes = CredentialFile.read(file);
        try {
            return parse(file.toString(), bytes);
        } finally {
            Arrays.fill(bytes, (byte) 0);
        }
    }

    /** Sorts the blocks of PEM {@code bytes}; {@code name} is how messages name their file. */
    static PemFile parse(String name, byte[] bytes) {
        // ISO-8859-1 maps every byte to one char: no decoding errors, and PEM itself is ASCII.
        char[] text = new char[bytes.length];
        for (int i = 0; i < bytes.length; i++) {
            text[i] = (char) (bytes[i] & 0xff);
        }
        try {
            if (indexOf(text, BEGIN, 0) < 0) {
                throw notPem(name, bytes);
            }
            return sort(name, text);
        } finally {
            Arrays.fill(text, '\0');
        }
    }

    private static PemFile sort(String name, char[] text) {
        List<X509Certificate> certificates = new ArrayList<>();
        List<KeyBlock> keys = new ArrayList<>();
        List<String> others = new ArrayList<>();
        try (PemBlockParser parser = new PemBlockParser(new CharArrayReader(text))) {
            int number = 0;
            while (true) {
                PemObject block;
                try {
                    block = parser.readPemObject();
                } catch (IOException | RuntimeException e) {
                    // PemReader's messages describe the framing ("-----END X----- not found", "unable
                    // to decode base64 string") and never echo the content, so they are safe to show.
                    throw new CredentialException(Reason.MALFORMED_PEM, name + ": PEM block " + (number + 1)
                            + " (" + typeOfBlock(text, number) + ") is truncated or corrupt (" + e.getMessage()
                            + "): replace the file with a complete copy");
                }
                if (block == null) {
                    break;
                }
                number++;
                String type = block.getType();
                if (CERTIFICATE_TYPES.contains(type)) {
                    certificates.add(certificate(name, number, block, parser));
                } else if (type.endsWith("PRIVATE KEY")) {
                    keys.add(new KeyBlock(name, number, block));
                } else {
                    others.add(type);
                }
            }
            if (number == 0) {
                throw new CredentialException(Reason.MALFORMED_PEM, name + " holds no PEM block (no line starting"
                        + " with '-----BEGIN '): pass a PEM file");
            }
        } catch (IOException e) {
            throw new IllegalStateException("closing an in-memory reader cannot fail", e);
        }
        return new PemFile(name, certificates, keys, others);
    }

    private static X509Certificate certificate(String name, int number, PemObject block, PemBlockParser parser) {
        try {
            if (parser.decode(block) instanceof X509CertificateHolder holder) {
                return new JcaX509CertificateConverter().getCertificate(holder);
            }
            throw new IOException("not decoded as a certificate");
        } catch (IOException | CertificateException | RuntimeException e) {
            throw new CredentialException(Reason.MALFORMED_PEM, name + ": PEM block " + number + " ("
                    + block.getType() + ") is not a valid X.509 certificate (" + e.getClass().getSimpleName()
                    + "): replace it with a complete copy of the certificate", e);
        }
    }

    /** How messages name the file. */
    String name() {
        return name;
    }

    /** The certificates, in file order. */
    List<X509Certificate> certificates() {
        return certificates;
    }

    /** The private key blocks, in file order, still encoded. */
    List<KeyBlock> keys() {
        return keys;
    }

    /** Zeroes the content of every key block, best effort, once the file has served. */
    void wipeKeys() {
        keys.forEach(KeyBlock::wipe);
    }

    /** What the file holds, for messages: {@code 2 CERTIFICATE blocks and 1 PUBLIC KEY block}. */
    String contents() {
        Map<String, Integer> counts = new LinkedHashMap<>();
        if (!certificates.isEmpty()) {
            counts.put("CERTIFICATE", certificates.size());
        }
        keys.forEach(key -> counts.merge(key.type(), 1, Integer::sum));
        otherTypes.forEach(type -> counts.merge(type, 1, Integer::sum));
        List<String> parts = new ArrayList<>();
        counts.forEach((type, count) -> parts.add(count + " " + type + (count == 1 ? " block" : " blocks")));
        return parts.size() <= 1 ? String.join("", parts)
                : String.join(", ", parts.subList(0, parts.size() - 1)) + " and " + parts.get(parts.size() - 1);
    }

    private static CredentialException notPem(String name, byte[] bytes) {
        boolean blank = true;
        boolean binary = false;
        for (byte b : bytes) {
            int c = b & 0xff;
            blank &= c == ' ' || c == '\t' || c == '\r' || c == '\n';
            binary |= c < 0x09 || (c > 0x0d && c < 0x20) || c == 0x7f;
        }
        if (blank) {
            return new CredentialException(Reason.MALFORMED_PEM, name + " is empty: it should hold PEM blocks"
                    + " (-----BEGIN CERTIFICATE----- ...); check that the file was written completely");
        }
        if (binary) {
            return new CredentialException(Reason.MALFORMED_PEM, name + " holds binary data, not PEM (DER or"
                    + " PKCS#12?): convert DER with 'openssl x509 -inform DER' / 'openssl pkcs8 -inform DER',"
                    + " or load a PKCS#12 file with TlsIdentity.fromPkcs12");
        }
        return new CredentialException(Reason.MALFORMED_PEM, name + " holds text but no PEM block (no line"
                + " starting with '-----BEGIN '): pass a PEM file");
    }

    /** The type named on the {@code n}-th (from 0) BEGIN line, for messages about a broken block. */
    private static String typeOfBlock(char[] text, int n) {
        int at = -1;
        for (int i = 0; i <= n; i++) {
            at = indexOf(text, BEGIN, at + 1);
            if (at < 0) {
                return "unknown type";
            }
        }
        StringBuilder type = new StringBuilder();
        for (int i = at + BEGIN.length(); i < text.length && type.length() < 40; i++) {
            char c = text[i];
            if (c == '-') {
                return type.toString();
            }
            if (!(c == ' ' || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) {
                break;
            }
            type.append(c);
        }
        return "unknown type";
    }

    private static int indexOf(char[] text, String needle, int from) {
        outer:
        for (int i = Math.max(from, 0); i <= text.length - needle.length(); i++) {
            for (int j = 0; j < needle.length(); j++) {
                if (text[i + j] != needle.charAt(j)) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
