package io.settler.zerotrust.token;

import java.util.Optional;

/** The JWS algorithms a {@link TokenKey} can be pinned to. */
public enum TokenAlgorithm {
    /** HMAC with SHA-256 and a secret of at least 256 bits. */
    HS256("HS256", "HmacSHA256", 32),
    /** ECDSA on P-256 with SHA-256; the signature is the 64-byte {@code r||s}. */
    ES256("ES256", "SHA256withECDSAinP1363Format", 64),
    /** EdDSA with Ed25519 keys (JWS name {@code EdDSA}). */
    ED25519("EdDSA", "Ed25519", 64);

    private final String jwsName;
    private final String jcaName;
    private final int signatureLength;

    TokenAlgorithm(String jwsName, String jcaName, int signatureLength) {
        this.jwsName = jwsName;
        this.jcaName = jcaName;
        this.signatureLength = signatureLength;
    }

    /** The header {@code alg} value, e.g. {@code ES256}. */
    public String jwsName() {
        return jwsName;
    }

    String jcaName() {
        return jcaName;
    }

    int signatureLength() {
        return signatureLength;
    }

    boolean isSecret() {
        return this == HS256;
    }

    static Optional<TokenAlgorithm> fromJwsName(String name) {
        for (TokenAlgorithm algorithm : values()) {
            if (algorithm.jwsName.equals(name)) {
                return Optional.of(algorithm);
            }
        }
        return Optional.empty();
    }
}
