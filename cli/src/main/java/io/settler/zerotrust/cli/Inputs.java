package io.settler.zerotrust.cli;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;

/** Reading the files a command names; a file that is not there or not what it should be is a usage error. */
final class Inputs {

    /** Far above any certificate, policy or JWKS file. */
    private static final long MAX_FILE = 1024 * 1024;

    private Inputs() {
    }

    static Path existingFile(Path file, String what) {
        if (!Files.isRegularFile(file)) {
            throw new UsageException(file + " is not a file; name the " + what);
        }
        try {
            if (Files.size(file) > MAX_FILE) {
                throw new UsageException(file + " is larger than " + MAX_FILE + " bytes; name the " + what);
            }
        } catch (IOException e) {
            throw new UsageException("cannot read " + file + " (" + e.getMessage() + "); name a readable " + what, e);
        }
        return file;
    }

    static String text(Path file, String what) {
        existingFile(file, what);
        try {
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UsageException("cannot read " + file + " (" + e.getMessage() + "); name a readable " + what, e);
        }
    }

    /** The certificates of a PEM or DER file, in file order. */
    static List<X509Certificate> certificates(Path file) {
        existingFile(file, "certificate file (PEM or DER)");
        try (InputStream in = Files.newInputStream(file)) {
            List<X509Certificate> certificates = new ArrayList<>();
            for (var certificate : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                certificates.add((X509Certificate) certificate);
            }
            if (certificates.isEmpty()) {
                throw new UsageException(file + " holds no certificate; name a PEM or DER certificate file");
            }
            return certificates;
        } catch (IOException | CertificateException e) {
            throw new UsageException(file + " is not a certificate file (" + e.getMessage()
                    + "); name a PEM or DER certificate, leaf first", e);
        }
    }
}
