package io.settler.zerotrust.credentials;

import io.settler.zerotrust.credentials.CredentialException.Reason;
import java.io.IOException;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.NoSuchAlgorithmException;
import java.security.PrivateKey;
import java.security.Provider;
import java.security.Security;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Arrays;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1Null;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.edec.EdECObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.openssl.PEMEncryptedKeyPair;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.jcajce.JceOpenSSLPKCS8DecryptorProviderBuilder;
import org.bouncycastle.openssl.jcajce.JcePEMDecryptorProviderBuilder;
import org.bouncycastle.operator.InputDecryptorProvider;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.pkcs.PKCS8EncryptedPrivateKeyInfo;
import org.bouncycastle.pkcs.PKCSException;
import org.jspecify.annotations.Nullable;

/**
 * Turns one private key PEM block into a JDK {@link PrivateKey}: PKCS#8 (plain or encrypted),
 * PKCS#1 RSA and SEC1 EC (plain or legacy OpenSSL-encrypted). All parsing and decryption is Bouncy
 * Castle's; the BC provider is used as an explicit instance, never registered globally.
 *
 * <p>The key object is made by a JCA {@link KeyFactory} for the algorithm's standard name, never by
 * Bouncy Castle's converter: that asks for an {@code ECDSA} factory, which only BC has, so with BC
 * registered (as many applications do) an EC key came out named {@code ECDSA}, which JSSE matches
 * to no key type, and every handshake failed. JSSE uses a key only if its algorithm name is
 * exactly {@code RSA}, {@code EC} or {@code EdDSA}, so the factory is the first in the JCA's
 * order whose key carries that name (BC's Ed25519 keys are named {@code Ed25519}; the JDK's, which
 * follow, {@code EdDSA}).
 */
final class PrivateKeyReader {

    private static final Provider BC = new BouncyCastleProvider();
    /** The standard JCA names of the key algorithms {@link KeyPolicy} allows. */
    private static final Map<ASN1ObjectIdentifier, String> STANDARD_NAMES = Map.of(
            PKCSObjectIdentifiers.rsaEncryption, "RSA",
            X9ObjectIdentifiers.id_ecPublicKey, "EC",
            EdECObjectIdentifiers.id_Ed25519, "Ed25519");
    /** The key algorithm names JSSE matches to its key types (it compares them exactly). */
    private static final Set<String> JSSE_NAMES = Set.of("RSA", "EC", "EdDSA");

    private PrivateKeyReader() {
    }

    /**
     * Decodes, decrypts if need be, and converts the key in {@code block}.
     *
     * @param password the password of an encrypted key; ignored for an unencrypted one; may be null
     * @param leaf the certificate the key should belong to: it names the curve of a SEC1 key that
     *     does not carry its own
     */
    static PrivateKey read(KeyBlock block, char @Nullable [] password, X509Certificate leaf) {
        String where = block.file() + " (PEM block " + block.number() + ")";
        try {
            PrivateKeyInfo info = withCurve(privateKeyInfo(block, password, where), leaf, block, where);
            // Disallowed algorithms, curves and explicit curve parameters are refused before the JDK
            // parses the key.
            KeyPolicy.checkAlgorithm(info.getPrivateKeyAlgorithm(), "the private key in " + where);
            try {
                return keyObject(info);
            } catch (GeneralSecurityException | IOException | RuntimeException e) {
                throw new CredentialException(Reason.MALFORMED_PEM, where + " holds " + block.format()
                        + " that does not form a valid key (" + e.getClass().getSimpleName()
                        + "): the file is corrupt; replace it");
            }
        } finally {
            block.wipe();
        }
    }

    /**
     * The same key as a key object of the standard algorithm name, made as {@link #read} makes one
     * (from a Bouncy Castle key object, say, or an {@code ECDSA} key a provider made), when it has a
     * PKCS#8 encoding; otherwise (a key in a hardware token) the key itself.
     */
    static PrivateKey standardKey(PrivateKey key) {
        byte[] encoded = "PKCS#8".equalsIgnoreCase(key.getFormat()) ? key.getEncoded() : null;
        if (encoded == null) {
            return key;
        }
        try {
            return keyObject(PrivateKeyInfo.getInstance(encoded));
        } catch (GeneralSecurityException | IOException | RuntimeException e) {
            return key; // an algorithm the JDK lacks: the key policy names and refuses it next
        } finally {
            Arrays.fill(encoded, (byte) 0);
        }
    }

    /**
     * The key object for {@code info}: from the first key factory, in the JCA's order, of the
     * algorithm's standard name whose key JSSE can use (named as {@link #JSSE_NAMES} says), else
     * from the first one. The algorithm must be one {@link KeyPolicy} allows; the DER copy is
     * wiped afterwards.
     */
    private static PrivateKey keyObject(PrivateKeyInfo info) throws GeneralSecurityException, IOException {
        ASN1ObjectIdentifier oid = info.getPrivateKeyAlgorithm().getAlgorithm();
        String algorithm = STANDARD_NAMES.get(oid);
        if (algorithm == null) {
            throw new NoSuchAlgorithmException("no standard key factory for " + oid.getId());
        }
        byte[] der = info.getEncoded();
        try {
            PKCS8EncodedKeySpec spec = new PKCS8EncodedKeySpec(der);
            PrivateKey first = null;
            Provider[] providers = Security.getProviders("KeyFactory." + algorithm);
            for (Provider provider : providers == null ? new Provider[0] : providers) {
                PrivateKey key = KeyFactory.getInstance(algorithm, provider).generatePrivate(spec);
                if (JSSE_NAMES.contains(key.getAlgorithm())) {
                    return key;
                }
                first = first == null ? key : first;
            }
            return first != null ? first : KeyFactory.getInstance(algorithm).generatePrivate(spec);
        } finally {
            Arrays.fill(der, (byte) 0);
        }
    }

    /** The password, which an encrypted key needs: also when the header did not say it is encrypted. */
    private static char[] requirePassword(char @Nullable [] password, KeyBlock block, String where) {
        if (password == null) {
            throw new CredentialException(Reason.PASSWORD_REQUIRED, where + " holds " + block.format()
                    + ": pass its password");
        }
        return password;
    }

    private static PrivateKeyInfo privateKeyInfo(KeyBlock block, char @Nullable [] password, String where) {
        switch (block.type()) {
            case "PRIVATE KEY", "ENCRYPTED PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY" -> { }
            case "DSA PRIVATE KEY" -> throw new CredentialException(Reason.WEAK_KEY, where + " holds a DSA key,"
                    + " which is refused: " + KeyPolicy.ALLOWED);
            case "OPENSSH PRIVATE KEY" -> throw new CredentialException(Reason.UNSUPPORTED_KEY_FORMAT, where
                    + " holds an OpenSSH private key, which TLS does not read: convert a copy to PKCS#8 with"
                    + " 'ssh-keygen -p -m PKCS8 -f <copy>', or issue a TLS key");
            default -> throw new CredentialException(Reason.UNSUPPORTED_KEY_FORMAT, where + " holds "
                    + block.format() + ", which is not supported: convert it to PKCS#8, e.g."
                    + " 'openssl pkcs8 -topk8 -in <file> -out key.pem'");
        }
        if (block.encrypted()) {
            requirePassword(password, block, where);
        }
        Object decoded;
        try {
            decoded = PemBlockParser.decoder().decode(block.block());
        } catch (IOException | RuntimeException e) {
            // No cause attached: a parser's message may quote the bytes it choked on.
            throw new CredentialException(Reason.MALFORMED_PEM, where + " holds " + block.format()
                    + " that cannot be parsed (" + e.getClass().getSimpleName() + "): the key is truncated or"
                    + " corrupt; replace the file");
        }
        if (decoded instanceof PrivateKeyInfo info) {
            return info;
        }
        if (decoded instanceof PEMKeyPair pair) {
            return pair.getPrivateKeyInfo();
        }
        if (decoded instanceof PKCS8EncryptedPrivateKeyInfo encrypted) {
            return decryptPkcs8(encrypted, requirePassword(password, block, where), block, where);
        }
        if (decoded instanceof PEMEncryptedKeyPair encrypted) {
            return decryptLegacy(encrypted, requirePassword(password, block, where), block, where);
        }
        throw new CredentialException(Reason.UNSUPPORTED_KEY_FORMAT, where + " holds " + block.format()
                + " that Bouncy Castle decodes as " + (decoded == null ? "nothing" : decoded.getClass().getSimpleName())
                + ": convert it to PKCS#8");
    }

    private static PrivateKeyInfo decryptPkcs8(PKCS8EncryptedPrivateKeyInfo encrypted, char[] password,
                                               KeyBlock block, String where) {
        String scheme = encryptionScheme(encrypted);
        InputDecryptorProvider decryptor;
        try {
            decryptor = new JceOpenSSLPKCS8DecryptorProviderBuilder().setProvider(BC).build(password);
        } catch (OperatorCreationException e) {
            throw new CredentialException(Reason.UNSUPPORTED_KEY_FORMAT, where + " holds " + block.format()
                    + " (" + scheme + ") that cannot be decrypted here (" + e.getClass().getSimpleName()
                    + "): re-encrypt it with 'openssl pkcs8 -topk8 -v2 aes-256-cbc'");
        }
        try {
            return encrypted.decryptPrivateKeyInfo(decryptor);
        } catch (PKCSException | RuntimeException e) {
            if (causedBy(e, NoSuchAlgorithmException.class)) {
                throw new CredentialException(Reason.UNSUPPORTED_KEY_FORMAT, where + " holds " + block.format()
                        + " encrypted with " + scheme + ", which is not supported: re-encrypt it with"
                        + " 'openssl pkcs8 -topk8 -v2 aes-256-cbc'");
            }
            throw new CredentialException(Reason.WRONG_PASSWORD, where + " holds " + block.format() + " ("
                    + scheme + ") and the password does not decrypt it: check the password (or the file is corrupt)");
        }
    }

    private static PrivateKeyInfo decryptLegacy(PEMEncryptedKeyPair encrypted, char[] password,
                                                KeyBlock block, String where) {
        try {
            return encrypted.decryptKeyPair(new JcePEMDecryptorProviderBuilder().setProvider(BC).build(password))
                    .getPrivateKeyInfo();
        } catch (IOException | RuntimeException e) {
            if (causedBy(e, NoSuchAlgorithmException.class)) {
                throw new CredentialException(Reason.UNSUPPORTED_KEY_FORMAT, where + " holds " + block.format()
                        + ", a cipher that is not supported: convert it to encrypted PKCS#8 with"
                        + " 'openssl pkcs8 -topk8 -v2 aes-256-cbc'");
            }
            throw new CredentialException(Reason.WRONG_PASSWORD, where + " holds " + block.format()
                    + " and the password does not decrypt it: check the password (or the file is corrupt)");
        }
    }

    /**
     * A SEC1 key may leave out its curve (JDK-encoded keys and {@code openssl ec -no_public} do).
     * The key must match the leaf anyway, so the leaf's named curve is the only one it can be on; a
     * wrong guess cannot pass, since the key is then checked against the leaf by signature.
     */
    private static PrivateKeyInfo withCurve(PrivateKeyInfo info, X509Certificate leaf, KeyBlock block, String where) {
        AlgorithmIdentifier algorithm = info.getPrivateKeyAlgorithm();
        ASN1Encodable parameters = algorithm.getParameters();
        if (!algorithm.getAlgorithm().equals(X9ObjectIdentifiers.id_ecPublicKey)
                || (parameters != null && !(parameters instanceof ASN1Null))) {
            return info;
        }
        Optional<ASN1ObjectIdentifier> curve = namedCurve(leaf);
        if (curve.isEmpty()) {
            throw new CredentialException(Reason.KEY_MISMATCH, where + " holds " + block.format() + " that does"
                    + " not name its curve, and the certificate " + Certificates.describe(leaf) + " has no EC key"
                    + " (" + leaf.getPublicKey().getAlgorithm() + "), so the key cannot belong to it: pass the key"
                    + " that was issued with this certificate");
        }
        try {
            return new PrivateKeyInfo(new AlgorithmIdentifier(X9ObjectIdentifiers.id_ecPublicKey, curve.get()),
                    info.parsePrivateKey(), info.getAttributes());
        } catch (IOException | RuntimeException e) {
            throw new CredentialException(Reason.MALFORMED_PEM, where + " holds " + block.format()
                    + " that cannot be parsed (" + e.getClass().getSimpleName() + "): replace the file");
        }
    }

    private static Optional<ASN1ObjectIdentifier> namedCurve(X509Certificate leaf) {
        try {
            AlgorithmIdentifier algorithm =
                    SubjectPublicKeyInfo.getInstance(leaf.getPublicKey().getEncoded()).getAlgorithm();
            return algorithm.getAlgorithm().equals(X9ObjectIdentifiers.id_ecPublicKey)
                    && algorithm.getParameters() instanceof ASN1ObjectIdentifier curve
                    ? Optional.of(curve) : Optional.empty();
        } catch (RuntimeException e) {
            return Optional.empty();
        }
    }

    private static String encryptionScheme(PKCS8EncryptedPrivateKeyInfo encrypted) {
        ASN1ObjectIdentifier oid = encrypted.getEncryptionAlgorithm().getAlgorithm();
        return oid.equals(PKCSObjectIdentifiers.id_PBES2) ? "PBES2" : "encryption scheme " + oid.getId();
    }

    private static boolean causedBy(Throwable e, Class<? extends Throwable> type) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (type.isInstance(t)) {
                return true;
            }
        }
        return false;
    }
}
