package io.settler.zerotrust.pki;

/** What a leaf certificate may be used for, expressed in its extended key usage. */
public enum CertificateUsage {
    /** TLS server only ({@code serverAuth}). */
    SERVER,
    /** TLS client only ({@code clientAuth}). */
    CLIENT,
    /** Both ({@code serverAuth} and {@code clientAuth}), as services that call and are called need. */
    SERVER_AND_CLIENT
}
