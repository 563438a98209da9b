package io.settler.zerotrust.credentials;

import io.settler.zerotrust.audit.Refusal;
import java.util.Objects;

/**
 * Credentials that cannot be loaded or are refused. The {@link #reason()} says which rule failed;
 * the message names the file (or says the credentials were given in memory), what was found and
 * how to fix it. Messages never hold key material or passwords, and causes are attached only when
 * they cannot hold any either.
 */
public final class CredentialException extends RuntimeException implements Refusal {

    private static final long serialVersionUID = 1L;

    /** Why credentials were refused. */
    public enum Reason {
        /** The file does not exist, is a directory, cannot be read or is implausibly large. */
        FILE_UNREADABLE,
        /** The file is empty, is not PEM (binary, plain text), or a PEM block is truncated or corrupt. */
        MALFORMED_PEM,
        /** The file is not a readable PKCS#12 key store (corrupt, or PEM passed where PKCS#12 was expected). */
        MALFORMED_PKCS12,
        /** No certificate where one was expected (an empty chain or trust bundle, or a key in its place). */
        NO_CERTIFICATE,
        /** No private key where one was expected (for example a certificate file passed as the key). */
        NO_PRIVATE_KEY,
        /** More than one private key, so which one belongs to the certificate is ambiguous. */
        MULTIPLE_PRIVATE_KEYS,
        /** A private key in a format or with an encryption this library does not read (e.g. OpenSSH). */
        UNSUPPORTED_KEY_FORMAT,
        /** The key is encrypted and no password was given. */
        PASSWORD_REQUIRED,
        /** The password does not decrypt the key or the key store (or the file is corrupt). */
        WRONG_PASSWORD,
        /**
         * The key is weak or of a type that is not allowed: only RSA of at least 2048 bits, EC on
         * P-256 or P-384 (named curves) and Ed25519 are accepted; DSA never.
         */
        WEAK_KEY,
        /** The private key does not belong to the leaf certificate. */
        KEY_MISMATCH,
        /**
         * The chain is out of order or not linked: each certificate must be followed by its issuer,
         * by name and by signature.
         */
        CHAIN_NOT_LINKED,
        /** The leaf (first) certificate is a CA certificate ({@code basicConstraints cA=true}). */
        LEAF_IS_CA,
        /** The leaf certificate, or a trust anchor, has expired. */
        EXPIRED,
        /** The leaf certificate is not valid yet. */
        NOT_YET_VALID,
        /** The leaf holds a malformed {@code spiffe://} URI SAN, or more than one. */
        INVALID_SERVICE_IDENTITY,
        /** A trust anchor is not a CA certificate (a v3 certificate without {@code cA=true}). */
        ANCHOR_NOT_CA,
        /** A private key where only certificates belong, such as in a trust bundle. */
        UNEXPECTED_PRIVATE_KEY,
        /**
         * The leaf does not chain to an anchor of the trust bundle it was loaded with: a certificate
         * from another CA, a missing intermediate, or a new bundle that no longer holds the leaf's CA.
         */
        UNTRUSTED_CHAIN,
        /**
         * A rotation would change the service's identity: the new leaf's SPIFFE ID (or its absence)
         * differs from the current one's. A rotation renews the same identity.
         */
        IDENTITY_CHANGED
    }

    private final Reason reason;

    CredentialException(Reason reason, String message) {
        super(message);
        this.reason = Objects.requireNonNull(reason, "reason");
    }

    CredentialException(Reason reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = Objects.requireNonNull(reason, "reason");
    }

    /** Which rule the credentials broke. */
    @Override
    public Reason reason() {
        return reason;
    }
}
