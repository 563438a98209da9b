package io.settler.zerotrust.pki;

import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PublicKey;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.util.Arrays;
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

    /**
     * The type of {@code key}, for a CA read back from its files.
     *
     * @throws IllegalArgumentException if the development CA issues no keys of its type
     */
    static KeyAlgorithm of(PublicKey key) {
        if (key instanceof ECPublicKey ec) {
            int bits = ec.getParams().getCurve().getField().getFieldSize();
            if (bits == 256) {
                return EC_P256;
            }
            if (bits == 384) {
                return EC_P384;
            }
        } else if (key instanceof RSAPublicKey rsa) {
            int bits = rsa.getModulus().bitLength();
            if (bits == 2048) {
                return RSA_2048;
            }
            if (bits == 3072) {
                return RSA_3072;
            }
        } else if (key.getAlgorithm().equals("Ed25519") || key.getAlgorithm().equals("EdDSA")) {
            return ED25519;
        }
        throw new IllegalArgumentException("a " + key.getAlgorithm() + " key the development CA does not issue;"
                + " it uses " + Arrays.toString(values()));
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
