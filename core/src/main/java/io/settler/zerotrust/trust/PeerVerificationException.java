package io.settler.zerotrust.trust;

import io.settler.zerotrust.audit.LogSafe;
import io.settler.zerotrust.audit.Refusal;
import java.security.cert.CertificateException;
import java.util.Objects;

/**
 * A peer's certificate chain was refused. It extends {@link CertificateException} so that an
 * {@link javax.net.ssl.X509TrustManager} can throw it unchanged; {@link #reason()} says what kind
 * of fault it was and the message says which certificate and what to fix.
 *
 * <p>The message names certificates the peer chose, so it is always one line of printable ASCII:
 * control and non-ASCII characters are escaped ({@link LogSafe#line(String)}), whoever built it,
 * and each name in it is cut at {@link LogSafe#MAX_LENGTH} characters. Logging it cannot forge
 * log lines.
 */
public final class PeerVerificationException extends CertificateException implements Refusal {

    private static final long serialVersionUID = 1L;

    /** The kind of fault that made verification fail. */
    public enum Reason {
        /** No path from the peer's certificate to a trust anchor: an unknown issuer or a missing intermediate. */
        UNTRUSTED_ISSUER,
        /** A signature in the path does not verify with its issuer's key. */
        BAD_SIGNATURE,
        /** A certificate in the path (anchors included) has expired at the verification time. */
        EXPIRED,
        /** A certificate in the path (anchors included) is not yet valid at the verification time. */
        NOT_YET_VALID,
        /** An issuing certificate is not a CA: no critical basicConstraints with {@code cA=true}. */
        NOT_A_CA,
        /** The peer's own certificate is a CA certificate, which may not be used as an end entity. */
        END_ENTITY_IS_CA,
        /** The path is longer than a CA's path length constraint or the verifier's limit allows. */
        PATH_TOO_LONG,
        /**
         * Building or checking a path needed more work than the verifier allows (a denial-of-service
         * guard): too many presented certificates, candidate paths, or names times name constraints.
         */
        PATH_SEARCH_LIMIT,
        /** A key usage forbids the certificate's role (a CA without keyCertSign, a leaf with it, ...). */
        WRONG_KEY_USAGE,
        /** The extended key usage of the leaf or of a CA does not allow TLS server or client authentication. */
        WRONG_EXTENDED_KEY_USAGE,
        /** The leaf does not name the expected host, address or service identity. */
        NAME_MISMATCH,
        /** A name in the path lies outside what a CA's name constraints permit, or the constraints are invalid. */
        NAME_CONSTRAINTS,
        /** The certificate policy processing of RFC 5280 failed. */
        POLICY,
        /** A signature algorithm is too weak (MD5, SHA-1, DSA) or not supported. */
        WEAK_ALGORITHM,
        /** A public key is too weak (RSA under 2048 bits, DSA, EC curves other than P-256, P-384, P-521). */
        WEAK_KEY,
        /** A certificate is malformed or breaks the RFC 5280 profile. */
        MALFORMED,
        /** A certificate carries a critical extension this verifier does not process. */
        UNSUPPORTED_CRITICAL_EXTENSION,
        /** The chain is valid but the peer's identity or address is not on the allow-list. */
        NOT_AUTHORIZED
    }

    private final Reason reason;

    /**
     * Creates the exception.
     *
     * @param reason the kind of fault
     * @param message which certificate and what to fix
     */
    public PeerVerificationException(Reason reason, String message) {
        super(LogSafe.line(message));
        this.reason = Objects.requireNonNull(reason, "reason");
    }

    /**
     * Creates the exception with its cause.
     *
     * @param reason the kind of fault
     * @param message which certificate and what to fix
     * @param cause the underlying exception
     */
    public PeerVerificationException(Reason reason, String message, Throwable cause) {
        super(LogSafe.line(message), cause);
        this.reason = Objects.requireNonNull(reason, "reason");
    }

    /** The kind of fault that made verification fail. */
    @Override
    public Reason reason() {
        return reason;
    }
}
