package io.settler.zerotrust.pki;

/**
 * A deliberate flaw the development CA can build into a leaf, so tests can prove that each kind of
 * bad certificate is refused.
 */
public enum CertificateDefect {
    /** The validity period ended a day ago. */
    EXPIRED,
    /** The validity period starts a day from now. */
    NOT_YET_VALID,
    /** The extended key usage is {@code codeSigning} only: neither a TLS server nor a TLS client. */
    WRONG_EKU,
    /**
     * The subject alternative names name someone else: the URI becomes
     * {@code spiffe://<trust-domain>/impostor-<service>}, every DNS name becomes
     * {@code wrong-san.invalid} and every IP address {@code 192.0.2.1} (TEST-NET-1).
     */
    WRONG_SAN,
    /**
     * Signed by a throw-away CA that has the same subject name and key type as the real issuer but
     * a different key, so only a signature check tells them apart.
     */
    UNKNOWN_CA,
    /** The leaf claims to be a CA ({@code BasicConstraints cA=true}). */
    CA_FLAG_ON_LEAF
}
