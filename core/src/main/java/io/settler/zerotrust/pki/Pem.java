package io.settler.zerotrust.pki;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.PrivateKey;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.util.List;
import org.bouncycastle.util.io.pem.PemObject;
import org.bouncycastle.util.io.pem.PemWriter;

/** PEM encoding and owner-only file writing for the development PKI. */
final class Pem {

    private Pem() {
    }

    static String certificates(List<X509Certificate> certificates) {
        StringWriter out = new StringWriter();
        try (PemWriter writer = new PemWriter(out)) {
            for (X509Certificate certificate : certificates) {
                writer.writeObject(new PemObject("CERTIFICATE", certificate.getEncoded()));
            }
        } catch (IOException | CertificateEncodingException e) {
            throw new IllegalStateException("cannot PEM-encode a certificate", e);
        }
        return out.toString();
    }

    /** Unencrypted PKCS#8, which is what JDK keys encode to. */
    static String privateKey(PrivateKey key) {
        StringWriter out = new StringWriter();
        try (PemWriter writer = new PemWriter(out)) {
            writer.writeObject(new PemObject("PRIVATE KEY", key.getEncoded()));
        } catch (IOException e) {
            throw new IllegalStateException("cannot PEM-encode a private key", e);
        }
        return out.toString();
    }

    /** Writes a public file (certificates), replacing it atomically. */
    static Path writePublic(Path file, byte[] content) {
        return write(file, content, "rw-r--r--");
    }

    /**
     * Writes a secret file readable by its owner only. The temporary file is created with 0600
     * before any byte is written, so the secret is never readable by others, not even briefly.
     */
    static Path writeSecret(Path file, byte[] content) {
        return write(file, content, "rw-------");
    }

    static Path writeSecret(Path file, String content) {
        return writeSecret(file, content.getBytes(StandardCharsets.US_ASCII));
    }

    static Path writePublic(Path file, String content) {
        return writePublic(file, content.getBytes(StandardCharsets.US_ASCII));
    }

    private static Path write(Path file, byte[] content, String permissions) {
        Path absolute = file.toAbsolutePath();
        try {
            Files.createDirectories(absolute.getParent());
            Path temp = Files.createTempFile(absolute.getParent(), "." + absolute.getFileName(), ".tmp",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString(permissions)));
            try {
                Files.write(temp, content);
                Files.move(temp, absolute, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } finally {
                Files.deleteIfExists(temp);
            }
            return absolute;
        } catch (UnsupportedOperationException e) {
            throw new IllegalStateException("cannot write " + absolute + " with permissions " + permissions
                    + ": the file system has no POSIX permissions; write to a POSIX file system", e);
        } catch (IOException e) {
            // The JDK's message is often just a path (a file in the way of a directory): name the kind too.
            throw new UncheckedIOException("cannot write " + absolute + " (" + e.getClass().getSimpleName() + ": "
                    + e.getMessage() + ")", e);
        }
    }
}
