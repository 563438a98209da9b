package io.settler.zerotrust.credentials;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.util.HexFormat;

/** The SHA-256 fingerprint by which logs, audit events and posture lines name a certificate. */
public final class CertificateFingerprint {

    private CertificateFingerprint() {
    }

    /**
     * SHA-256 of the DER encoding, 64 lower-case hex digits without separators.
     *
     * @throws IllegalArgumentException if the certificate cannot be encoded (only a hand-made
     *     {@code X509Certificate} implementation can fail so; parsed ones always encode)
     */
    public static String sha256(X509Certificate certificate) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(certificate.getEncoded()));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM has SHA-256", e);
        } catch (CertificateEncodingException e) {
            throw new IllegalArgumentException("the certificate cannot be encoded", e);
        }
    }
}
