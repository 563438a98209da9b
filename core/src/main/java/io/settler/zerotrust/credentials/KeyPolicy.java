package io.settler.zerotrust.credentials;

import io.settler.zerotrust.credentials.CredentialException.Reason;
import java.security.Key;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.interfaces.RSAKey;
import java.util.Arrays;
import java.util.Map;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1Null;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.edec.EdECObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.sec.SECObjectIdentifiers;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.asn1.x9.ECNamedCurveTable;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;

/**
 * Which keys a TLS identity may hold: RSA of at least 2048 bits, EC on the named curves P-256 or
 * P-384, and Ed25519. DSA, other curves, explicit curve parameters, RSA-PSS-only keys, Ed448 and
 * key-agreement keys are refused.
 */
final class KeyPolicy {

    static final int MIN_RSA_BITS = 2048;
    static final String ALLOWED = "allowed keys are RSA of at least " + MIN_RSA_BITS
            + " bits, EC on P-256 or P-384, and Ed25519";

    private static final ASN1ObjectIdentifier DSA = new ASN1ObjectIdentifier("1.2.840.10040.4.1");
    private static final Map<ASN1ObjectIdentifier, String> ALLOWED_CURVES = Map.of(
            SECObjectIdentifiers.secp256r1, "P-256",
            SECObjectIdentifiers.secp384r1, "P-384");

    private KeyPolicy() {
    }

    /**
     * Refuses a private key of a type or size that is not allowed.
     *
     * @param what the key as the subject of a sentence, e.g. {@code the private key in key.pem}
     */
    static void checkPrivateKey(PrivateKey key, String what) {
        byte[] encoded = "PKCS#8".equalsIgnoreCase(key.getFormat()) ? key.getEncoded() : null;
        if (encoded != null) {
            AlgorithmIdentifier algorithm;
            try {
                algorithm = PrivateKeyInfo.getInstance(encoded).getPrivateKeyAlgorithm();
            } catch (RuntimeException e) {
                throw new CredentialException(Reason.UNSUPPORTED_KEY_FORMAT, what
                        + " has an encoding that cannot be read (" + e.getClass().getSimpleName() + ")");
            } finally {
                Arrays.fill(encoded, (byte) 0);
            }
            checkAlgorithm(algorithm, what);
        } else if (!isAllowedFamily(key.getAlgorithm())) {
            // A key without an encoding (in a hardware token, say): judge it by its algorithm name;
            // the curve or size is checked on the certificate's public key, which it must match.
            throw new CredentialException(Reason.WEAK_KEY, what + " is a " + key.getAlgorithm() + " key: " + ALLOWED);
        }
        checkRsaSize(key, what);
    }

    /**
     * Refuses a public key of a type or size that is not allowed.
     *
     * @param what the key's holder as the subject of a sentence, e.g. {@code the leaf certificate 'CN=api'}
     */
    static void checkPublicKey(PublicKey key, String what) {
        AlgorithmIdentifier algorithm;
        try {
            algorithm = SubjectPublicKeyInfo.getInstance(key.getEncoded()).getAlgorithm();
        } catch (RuntimeException e) {
            throw new CredentialException(Reason.UNSUPPORTED_KEY_FORMAT, what
                    + " has a public key that cannot be read (" + e.getClass().getSimpleName() + ")");
        }
        checkAlgorithm(algorithm, what);
        checkRsaSize(key, what);
    }

    /** Refuses an algorithm (and EC curve) that is not allowed; RSA sizes are checked on the key. */
    static void checkAlgorithm(AlgorithmIdentifier algorithm, String what) {
        ASN1ObjectIdentifier oid = algorithm.getAlgorithm();
        if (oid.equals(PKCSObjectIdentifiers.rsaEncryption) || oid.equals(EdECObjectIdentifiers.id_Ed25519)) {
            return;
        }
        if (oid.equals(X9ObjectIdentifiers.id_ecPublicKey)) {
            ASN1Encodable parameters = algorithm.getParameters();
            if (parameters instanceof ASN1ObjectIdentifier curve) {
                if (!ALLOWED_CURVES.containsKey(curve)) {
                    throw new CredentialException(Reason.WEAK_KEY, what + " is an EC key on curve "
                            + curveName(curve) + ": " + ALLOWED);
                }
                return;
            }
            if (parameters == null || parameters instanceof ASN1Null) {
                throw new CredentialException(Reason.UNSUPPORTED_KEY_FORMAT, what
                        + " is an EC key that does not name its curve: re-encode it with the curve named,"
                        + " e.g. openssl pkcs8 -topk8 -nocrypt");
            }
            throw new CredentialException(Reason.WEAK_KEY, what + " is an EC key with explicit curve"
                    + " parameters, which are refused (they can hide a forged curve): re-encode it with a named"
                    + " curve, e.g. openssl ec -param_enc named_curve; " + ALLOWED);
        }
        if (oid.equals(DSA)) {
            throw new CredentialException(Reason.WEAK_KEY, what + " is a DSA key, which is refused: " + ALLOWED);
        }
        throw new CredentialException(Reason.WEAK_KEY, what + " is a key of algorithm " + algorithmName(oid)
                + ", which is not allowed: " + ALLOWED);
    }

    /** The curve name for messages: {@code P-256}, {@code secp521r1} or the OID. */
    static String curveName(ASN1ObjectIdentifier curve) {
        String allowed = ALLOWED_CURVES.get(curve);
        if (allowed != null) {
            return allowed;
        }
        String name = ECNamedCurveTable.getName(curve);
        return name != null ? name : curve.getId();
    }

    private static String algorithmName(ASN1ObjectIdentifier oid) {
        if (oid.equals(PKCSObjectIdentifiers.id_RSASSA_PSS)) {
            return "RSASSA-PSS (an RSA key restricted to PSS)";
        }
        if (oid.equals(EdECObjectIdentifiers.id_Ed448)) {
            return "Ed448";
        }
        if (oid.equals(EdECObjectIdentifiers.id_X25519)) {
            return "X25519 (key agreement only)";
        }
        if (oid.equals(EdECObjectIdentifiers.id_X448)) {
            return "X448 (key agreement only)";
        }
        return oid.getId();
    }

    private static void checkRsaSize(Key key, String what) {
        if (key instanceof RSAKey rsa && rsa.getModulus() != null && rsa.getModulus().bitLength() < MIN_RSA_BITS) {
            throw new CredentialException(Reason.WEAK_KEY, what + " is an RSA key of " + rsa.getModulus().bitLength()
                    + " bits: " + ALLOWED);
        }
    }

    private static boolean isAllowedFamily(String algorithm) {
        return switch (algorithm) {
            case "RSA", "EC", "Ed25519", "EdDSA" -> true;
            default -> false;
        };
    }
}
