package io.settler.zerotrust.pki;

import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import org.jspecify.annotations.Nullable;

/** Key types the development CA can issue, and the signature each one makes as an issuer. */
public enum KeyAlgorithm {
    /** EC on NIST P-256, signing with SHA256withECDSA; the default. */
    EC_P256("EC", "secp256r1", 0, "SHA256withECDSA"),
    /** EC on NIST P-384, signing with SHA384withECDSA. */
    EC_P384("EC", "secp384r1", 0, "SHA384withECDSA"),
    /** RSA with a 2048-bit modulus, signing with SHA256withRSA. */
    RSA_2048("RSA", null, 2048, "SHA256withRSA"),
    /** RSA with a 3072-bit modulus, signing with SHA256withRSA. */
    RSA_3072("RSA", null, 3072, "SHA256withRSA"),
    /** Ed25519, signing with Ed25519. */
    ED25519("Ed25519", null, 0, "Ed25519");

    private final String jcaName;
    private final @Nullable String curve;
    private final int bits;
    private final String signatureAlgorithm;

    KeyAlgorithm(String jcaName, @Nullable String curve, int bits, String signatureAlgorithm) {
        this.jcaName = jcaName;
        this.curve = curve;
        this.bits = bits;
        this.signatureAlgorithm = signatureAlgorithm;
    }

    /** The JCA name of the signature a key of this type makes, e.g. {@code SHA256withECDSA}. */
    public String signatureAlgorithm() {
        return signatureAlgorithm;
    }

    /** Whether keys of this type are RSA keys (which also need the keyEncipherment key usage). */
    boolean isRsa() {
        return jcaName.equals("RSA");
    }

    KeyPair generate() {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance(jcaName);
            if (curve != null) {
                generator.initialize(new ECGenParameterSpec(curve));
            } else if (bits > 0) {
                generator.initialize(bits);
            }
            return generator.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this JDK cannot generate " + this + " keys", e);
        }
    }
}
