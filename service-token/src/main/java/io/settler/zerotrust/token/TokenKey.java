package io.settler.zerotrust.token;

import io.jsonwebtoken.Jwts;
import io.jsonwebtoken.security.Jwks;
import io.settler.zerotrust.identity.ServiceIdentity;
import java.nio.charset.StandardCharsets;
import java.security.AlgorithmParameters;
import java.security.GeneralSecurityException;
import java.security.Key;
import java.security.KeyPair;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.interfaces.ECKey;
import java.security.interfaces.EdECKey;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.ECParameterSpec;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import javax.crypto.Mac;
import javax.crypto.SecretKey;
import javax.crypto.spec.SecretKeySpec;
import org.jspecify.annotations.Nullable;

/**
 * One token key: a key id ({@code kid}), the single algorithm it is pinned to, the key that
 * verifies and, when this service mints with it, the key that signs; optionally the issuers
 * allowed to use it, so a key trusted for one issuer cannot vouch for tokens claiming another.
 *
 * <pre>{@code
 * TokenKey signing = TokenKey.generate(TokenAlgorithm.ES256, "api-2026-11");
 * TokenKey shared = TokenKey.hs256("queue-1", secretBytes).forIssuers("spiffe://example.org/api");
 * }</pre>
 *
 * <p>Immutable and thread-safe; {@link #toString()} names the kid and algorithm only.
 */
public final class TokenKey {

    private static final int MIN_SECRET_BYTES = 32;
    private static final ECParameterSpec P256 = p256();
    private static final byte[] PROBE = "settler-zerotrust key pair check".getBytes(StandardCharsets.US_ASCII);

    private final String kid;
    private final TokenAlgorithm algorithm;
    private final Key verificationKey;
    private final @Nullable Key signingKey;
    private final Set<ServiceIdentity> issuers;
    /** One JCA engine per thread, initialised once with the verification key. */
    private final ThreadLocal<Object> engines;

    private TokenKey(String kid, TokenAlgorithm algorithm, Key verificationKey, @Nullable Key signingKey,
                     Set<ServiceIdentity> issuers) {
        this.kid = checkKid(kid);
        this.algorithm = algorithm;
        this.verificationKey = verificationKey;
        this.signingKey = signingKey;
        this.issuers = issuers;
        this.engines = ThreadLocal.withInitial(this::newEngine);
    }

    /**
     * An HS256 key; the secret signs and verifies, so share it only with the peers that verify.
     *
     * @throws ServiceTokenException if the secret is shorter than 256 bits
     */
    public static TokenKey hs256(String kid, byte[] secret) {
        Objects.requireNonNull(secret, "secret");
        if (secret.length < MIN_SECRET_BYTES) {
            throw new ServiceTokenException(ServiceTokenException.Reason.INVALID_KEY, "key '" + kid
                    + "': an HS256 secret must be at least 256 bits (32 bytes); got " + secret.length * 8
                    + " bits. Generate one with TokenKey.generate(TokenAlgorithm.HS256, kid)");
        }
        SecretKey key = new SecretKeySpec(secret.clone(), "HmacSHA256");
        return new TokenKey(kid, TokenAlgorithm.HS256, key, key, Set.of());
    }

    /** An ES256 key that verifies only. */
    public static TokenKey es256(String kid, PublicKey publicKey) {
        return publicKey(kid, TokenAlgorithm.ES256, publicKey);
    }

    /** An ES256 key pair (P-256) that signs and verifies. */
    public static TokenKey es256(String kid, KeyPair keyPair) {
        return keyPair(kid, TokenAlgorithm.ES256, keyPair);
    }

    /** An Ed25519 key that verifies only. */
    public static TokenKey ed25519(String kid, PublicKey publicKey) {
        return publicKey(kid, TokenAlgorithm.ED25519, publicKey);
    }

    /** An Ed25519 key pair that signs and verifies. */
    public static TokenKey ed25519(String kid, KeyPair keyPair) {
        return keyPair(kid, TokenAlgorithm.ED25519, keyPair);
    }

    /** A new random key (a 256-bit secret, or a fresh key pair) for the algorithm. */
    public static TokenKey generate(TokenAlgorithm algorithm, String kid) {
        switch (Objects.requireNonNull(algorithm, "algorithm")) {
            case HS256:
                return hs256(kid, Jwts.SIG.HS256.key().build().getEncoded());
            case ES256:
                return es256(kid, Jwts.SIG.ES256.keyPair().build());
            default:
                return ed25519(kid, Jwks.CRV.Ed25519.keyPair().build());
        }
    }

    /**
     * This key, usable only by tokens whose {@code iss} is one of {@code issuers}.
     *
     * @param issuers the services the key speaks for, normally the one that holds its private half
     * @return the pinned key
     * @throws ServiceTokenException {@code INVALID_SETTING} if {@code issuers} is empty: an empty list
     *         (say, a templated one that rendered empty) would leave the key speaking for any issuer
     */
    public TokenKey forIssuers(ServiceIdentity... issuers) {
        if (issuers.length == 0) {
            throw new ServiceTokenException(ServiceTokenException.Reason.INVALID_SETTING, "key '" + kid
                    + "': pin it to at least one issuer; an empty list would let it speak for any issuer");
        }
        Set<ServiceIdentity> pinned = new LinkedHashSet<>();
        for (ServiceIdentity issuer : issuers) {
            pinned.add(Objects.requireNonNull(issuer, "issuer"));
        }
        return new TokenKey(kid, algorithm, verificationKey, signingKey, Collections.unmodifiableSet(pinned));
    }

    /**
     * This key, usable only by tokens whose {@code iss} is one of {@code issuers}: a convenience
     * for {@link #forIssuers(ServiceIdentity...)} that parses each SPIFFE ID first.
     *
     * @param issuers SPIFFE IDs, e.g. {@code spiffe://example.org/api}
     * @return the pinned key
     * @throws ServiceTokenException {@code INVALID_SETTING} if {@code issuers} is empty
     * @throws io.settler.zerotrust.identity.InvalidServiceIdentityException if one is not a valid
     *         SPIFFE ID (a key pinned to a misspelt issuer would silently verify nothing)
     */
    public TokenKey forIssuers(String... issuers) {
        return forIssuers(parseIssuers(issuers));
    }

    /**
     * Parses issuer SPIFFE IDs for the {@code String} conveniences of the typed issuer settings.
     *
     * @throws io.settler.zerotrust.identity.InvalidServiceIdentityException if one is not a valid SPIFFE ID
     */
    static ServiceIdentity[] parseIssuers(String... issuers) {
        ServiceIdentity[] parsed = new ServiceIdentity[issuers.length];
        for (int i = 0; i < issuers.length; i++) {
            parsed[i] = ServiceIdentity.parse(Objects.requireNonNull(issuers[i], "issuer"));
        }
        return parsed;
    }

    /** This key without its signing half, e.g. to hand to verifiers; an HS256 key stays secret. */
    public TokenKey verifyOnly() {
        return algorithm.isSecret() ? this : new TokenKey(kid, algorithm, verificationKey, null, issuers);
    }

    /** The key id, the {@code kid} header of tokens it signs. */
    public String kid() {
        return kid;
    }

    /** The one algorithm this key signs and verifies with. */
    public TokenAlgorithm algorithm() {
        return algorithm;
    }

    /** The issuers allowed to use this key; empty when any trusted issuer may. */
    public Set<ServiceIdentity> issuers() {
        return issuers;
    }

    /** Whether this key can sign (holds a private key or a secret). */
    public boolean canSign() {
        return signingKey != null;
    }

    /** Whether this is a shared secret rather than a public key. */
    public boolean isSecret() {
        return algorithm.isSecret();
    }

    /** The public key, if this is not a secret key. */
    public Optional<PublicKey> publicKey() {
        return verificationKey instanceof PublicKey ? Optional.of((PublicKey) verificationKey) : Optional.empty();
    }

    boolean mayBeUsedBy(ServiceIdentity issuer) {
        return issuers.isEmpty() || issuers.contains(issuer);
    }

    @Nullable Key signingKey() {
        return signingKey;
    }

    /** Verifies a signature of exactly the algorithm's length over {@code data}. */
    boolean verify(byte[] data, byte[] signature) {
        if (signature.length != algorithm.signatureLength()) {
            return false;
        }
        try {
            Object engine = engines.get();
            if (engine instanceof Mac) {
                Mac mac = (Mac) engine;
                return MessageDigest.isEqual(mac.doFinal(data), signature);
            }
            if (algorithm == TokenAlgorithm.ES256 && (isZero(signature, 0, 32) || isZero(signature, 32, 64))) {
                return false; // r or s of zero: the "psychic signature" class of bugs
            }
            Signature verifier = (Signature) engine;
            verifier.update(data);
            return verifier.verify(signature);
        } catch (GeneralSecurityException | RuntimeException e) {
            engines.remove();
            return false;
        }
    }

    private Object newEngine() {
        try {
            if (algorithm.isSecret()) {
                Mac mac = Mac.getInstance(algorithm.jcaName());
                mac.init(verificationKey);
                return mac;
            }
            Signature signature = Signature.getInstance(algorithm.jcaName());
            signature.initVerify((PublicKey) verificationKey);
            return signature;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the JDK lacks " + algorithm.jcaName(), e);
        }
    }

    private static boolean isZero(byte[] bytes, int from, int to) {
        for (int i = from; i < to; i++) {
            if (bytes[i] != 0) {
                return false;
            }
        }
        return true;
    }

    private static TokenKey publicKey(String kid, TokenAlgorithm algorithm, PublicKey publicKey) {
        Objects.requireNonNull(publicKey, "publicKey");
        checkType(kid, algorithm, publicKey);
        return new TokenKey(kid, algorithm, publicKey, null, Set.of());
    }

    private static TokenKey keyPair(String kid, TokenAlgorithm algorithm, KeyPair keyPair) {
        Objects.requireNonNull(keyPair, "keyPair");
        PublicKey publicKey = Objects.requireNonNull(keyPair.getPublic(), "public key");
        PrivateKey privateKey = Objects.requireNonNull(keyPair.getPrivate(), "private key");
        checkType(kid, algorithm, publicKey);
        checkType(kid, algorithm, privateKey);
        TokenKey key = new TokenKey(kid, algorithm, publicKey, privateKey, Set.of());
        try {
            Signature signer = Signature.getInstance(algorithm.jcaName());
            signer.initSign(privateKey);
            signer.update(PROBE);
            if (key.verify(PROBE, signer.sign())) {
                return key;
            }
        } catch (GeneralSecurityException e) {
            throw new ServiceTokenException(ServiceTokenException.Reason.INVALID_KEY, "key '" + kid
                    + "': the private key cannot sign with " + algorithm.jwsName(), e);
        }
        throw new ServiceTokenException(ServiceTokenException.Reason.INVALID_KEY, "key '" + kid
                + "': the private and public keys do not belong together");
    }

    private static void checkType(String kid, TokenAlgorithm algorithm, Key key) {
        boolean fits;
        if (algorithm == TokenAlgorithm.ES256) {
            fits = key instanceof ECKey && isP256(((ECKey) key).getParams());
        } else {
            fits = key instanceof EdECKey && "Ed25519".equalsIgnoreCase(((EdECKey) key).getParams().getName());
        }
        if (!fits) {
            throw new ServiceTokenException(ServiceTokenException.Reason.INVALID_KEY, "key '" + kid + "': "
                    + algorithm.jwsName() + " needs "
                    + (algorithm == TokenAlgorithm.ES256 ? "an EC P-256" : "an Ed25519")
                    + " key; got a " + key.getAlgorithm() + " key");
        }
    }

    private static boolean isP256(ECParameterSpec params) {
        return params != null && params.getCurve().equals(P256.getCurve()) && params.getOrder().equals(P256.getOrder())
                && params.getGenerator().equals(P256.getGenerator());
    }

    private static ECParameterSpec p256() {
        try {
            AlgorithmParameters parameters = AlgorithmParameters.getInstance("EC");
            parameters.init(new ECGenParameterSpec("secp256r1"));
            return parameters.getParameterSpec(ECParameterSpec.class);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("every JDK knows secp256r1", e);
        }
    }

    private static String checkKid(String kid) {
        if (kid == null || kid.isEmpty() || kid.length() > 128) {
            throw new ServiceTokenException(ServiceTokenException.Reason.INVALID_KEY,
                    "a key id (kid) must be 1 to 128 printable ASCII characters");
        }
        for (int i = 0; i < kid.length(); i++) {
            char c = kid.charAt(i);
            if (c < 0x21 || c > 0x7e) {
                throw new ServiceTokenException(ServiceTokenException.Reason.INVALID_KEY,
                        "a key id (kid) must be 1 to 128 printable ASCII characters without spaces");
            }
        }
        return kid;
    }

    @Override
    public String toString() {
        return "TokenKey[" + kid + ", " + algorithm.jwsName() + (canSign() ? ", signs" : "")
                + (issuers.isEmpty() ? "" : ", issuers=" + issuers) + "]";
    }
}
