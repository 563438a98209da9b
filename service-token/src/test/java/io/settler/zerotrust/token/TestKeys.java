package io.settler.zerotrust.token;

import io.settler.zerotrust.pki.DevCertificateAuthority;
import io.settler.zerotrust.pki.IssuedCertificate;
import io.settler.zerotrust.pki.KeyAlgorithm;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.SecretKey;

/** Keys from the development CA, and a forger that signs any header and payload text. */
final class TestKeys {

    static final String API = "spiffe://example.org/api";
    static final String PROXY = "spiffe://example.org/db-proxy";
    static final String WORKER = "spiffe://example.org/worker";
    static final DevCertificateAuthority CA = DevCertificateAuthority.create("example.org");

    private TestKeys() {
    }

    static IssuedCertificate leaf(String service, KeyAlgorithm algorithm) {
        return CA.leaf(service).keyAlgorithm(algorithm).issue();
    }

    static TokenKey es256(String kid) {
        IssuedCertificate leaf = leaf("api", KeyAlgorithm.EC_P256);
        return TokenKey.es256(kid, new KeyPair(leaf.certificate().getPublicKey(), leaf.privateKey()));
    }

    static TokenKey ed25519(String kid) {
        IssuedCertificate leaf = leaf("api", KeyAlgorithm.ED25519);
        return TokenKey.ed25519(kid, new KeyPair(leaf.certificate().getPublicKey(), leaf.privateKey()));
    }

    static TokenKey hs256(String kid) {
        byte[] secret = new byte[32];
        new SecureRandom().nextBytes(secret);
        return TokenKey.hs256(kid, secret);
    }

    static String b64(String text) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(text.getBytes(StandardCharsets.UTF_8));
    }

    static String b64(byte[] bytes) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    /** header.payload.signature with both texts as given, signed with the key's signing half. */
    static String forge(TokenKey key, String headerJson, String payloadJson) {
        String input = b64(headerJson) + "." + b64(payloadJson);
        return input + "." + b64(sign(key, input.getBytes(StandardCharsets.US_ASCII)));
    }

    static byte[] sign(TokenKey key, byte[] input) {
        try {
            if (key.algorithm() == TokenAlgorithm.HS256) {
                Mac mac = Mac.getInstance("HmacSHA256");
                mac.init((SecretKey) key.signingKey());
                return mac.doFinal(input);
            }
            Signature signature = Signature.getInstance(key.algorithm().jcaName());
            signature.initSign((PrivateKey) key.signingKey());
            signature.update(input);
            return signature.sign();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }
}
