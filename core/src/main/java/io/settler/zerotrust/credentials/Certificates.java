package io.settler.zerotrust.credentials;

import java.security.GeneralSecurityException;
import java.security.cert.X509Certificate;
import javax.security.auth.x500.X500Principal;

/** Small facts about certificates, phrased for messages and logs. */
final class Certificates {

    private Certificates() {
    }

    static String fingerprint(X509Certificate certificate) {
        return CertificateFingerprint.sha256(certificate);
    }

    /** The subject in RFC 2253 form, made safe for one line of a log or message. */
    static String subject(X509Certificate certificate) {
        return printable(certificate.getSubjectX500Principal());
    }

    /** The issuer in RFC 2253 form, made safe for one line of a log or message. */
    static String issuer(X509Certificate certificate) {
        return printable(certificate.getIssuerX500Principal());
    }

    /** {@code 'CN=api' (SHA-256 ab12…)}: enough to find the certificate, nothing secret. */
    static String describe(X509Certificate certificate) {
        return "'" + subject(certificate) + "' (SHA-256 " + fingerprint(certificate) + ")";
    }

    /** Whether the certificate names itself as issuer and its signature verifies with its own key. */
    static boolean isSelfSigned(X509Certificate certificate) {
        return certificate.getIssuerX500Principal().equals(certificate.getSubjectX500Principal())
                && signedBy(certificate, certificate);
    }

    /** Whether {@code certificate}'s signature verifies with {@code issuer}'s public key. */
    static boolean signedBy(X509Certificate certificate, X509Certificate issuer) {
        try {
            certificate.verify(issuer.getPublicKey());
            return true;
        } catch (GeneralSecurityException | RuntimeException e) {
            return false;
        }
    }

    /** Whether the certificate is a CA by its basic constraints ({@code cA=true}). */
    static boolean isCa(X509Certificate certificate) {
        return certificate.getBasicConstraints() >= 0;
    }

    private static String printable(X500Principal name) {
        return printable(name.getName(X500Principal.RFC2253));
    }

    /** Text from a certificate (a name, a SAN), with control characters and quotes escaped. */
    static String printable(String text) {
        StringBuilder out = new StringBuilder(text.length());
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c < 0x20 || c == 0x7f) {
                out.append(String.format("\\u%04x", (int) c));
            } else if (c == '"') {
                out.append("\\\"");
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }
}
