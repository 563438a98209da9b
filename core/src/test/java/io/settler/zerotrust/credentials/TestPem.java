package io.settler.zerotrust.credentials;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.Provider;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPrivateKey;
import java.security.spec.AlgorithmParameterSpec;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.openssl.PKCS8Generator;
import org.bouncycastle.openssl.jcajce.JcaMiscPEMGenerator;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.openssl.jcajce.JceOpenSSLPKCS8EncryptorBuilder;
import org.bouncycastle.openssl.jcajce.JcePEMEncryptorBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.util.io.pem.PemObject;
import org.bouncycastle.util.io.pem.PemObjectGenerator;

/**
 * Writes keys and certificates in every PEM shape the loaders must read, and builds the odd
 * certificates the development CA will not issue. Everything is generated at test time.
 */
final class TestPem {

    static final Provider BC = new BouncyCastleProvider();
    static final char[] PASSWORD = "correct horse battery staple".toCharArray();

    /** The ways a private key is written as PEM. */
    enum KeyFormat {
        PKCS8, ENCRYPTED_PKCS8, PKCS1, SEC1, SEC1_WITHOUT_CURVE, SEC1_WITHOUT_PUBLIC_KEY, SEC1_BARE, LEGACY_ENCRYPTED;

        boolean encrypted() {
            return this == ENCRYPTED_PKCS8 || this == LEGACY_ENCRYPTED;
        }
    }

    private TestPem() {
    }

    /** The private key of {@code keys} in {@code format}, encrypted with {@link #PASSWORD} if the format is. */
    static String key(KeyPair keys, KeyFormat format) {
        PrivateKey key = keys.getPrivate();
        try {
            return switch (format) {
                case PKCS8 -> pem(new PemObject("PRIVATE KEY", key.getEncoded()));
                case ENCRYPTED_PKCS8 -> pem(new JcaPKCS8Generator(key,
                        new JceOpenSSLPKCS8EncryptorBuilder(PKCS8Generator.AES_256_CBC)
                                .setPRF(PKCS8Generator.PRF_HMACSHA256).setProvider(BC).setPassword(PASSWORD).build()));
                case PKCS1 -> pem(new JcaMiscPEMGenerator(PrivateKeyInfo.getInstance(key.getEncoded())));
                case SEC1 -> pem(new PemObject("EC PRIVATE KEY", sec1(keys, true, true).getEncoded()));
                case SEC1_WITHOUT_CURVE -> pem(new PemObject("EC PRIVATE KEY", sec1(keys, false, true).getEncoded()));
                case SEC1_WITHOUT_PUBLIC_KEY ->
                        pem(new PemObject("EC PRIVATE KEY", sec1(keys, true, false).getEncoded()));
                case SEC1_BARE -> pem(new PemObject("EC PRIVATE KEY", sec1(keys, false, false).getEncoded()));
                case LEGACY_ENCRYPTED -> pem(new JcaMiscPEMGenerator(key instanceof ECPrivateKey
                        ? new PrivateKeyInfo(new AlgorithmIdentifier(X9ObjectIdentifiers.id_ecPublicKey, curve(keys)),
                                sec1(keys, true, true))
                        : PrivateKeyInfo.getInstance(key.getEncoded()),
                        new JcePEMEncryptorBuilder("AES-256-CBC").setProvider(BC).build(PASSWORD)));
            };
        } catch (IOException | OperatorCreationException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The SEC1 {@code ECPrivateKey} structure, with or without its curve and public key. */
    static org.bouncycastle.asn1.sec.ECPrivateKey sec1(KeyPair keys, boolean withCurve, boolean withPublicKey) {
        ECPrivateKey key = (ECPrivateKey) keys.getPrivate();
        SubjectPublicKeyInfo spki = SubjectPublicKeyInfo.getInstance(keys.getPublic().getEncoded());
        return new org.bouncycastle.asn1.sec.ECPrivateKey(key.getParams().getOrder().bitLength(), key.getS(),
                withPublicKey ? spki.getPublicKeyData() : null, withCurve ? curve(keys) : null);
    }

    private static ASN1Encodable curve(KeyPair keys) {
        return SubjectPublicKeyInfo.getInstance(keys.getPublic().getEncoded()).getAlgorithm().getParameters();
    }

    /** Certificates as PEM, in the order given. */
    static String certificates(List<X509Certificate> certificates) {
        StringWriter out = new StringWriter();
        try (JcaPEMWriter writer = new JcaPEMWriter(out)) {
            for (X509Certificate certificate : certificates) {
                writer.writeObject(certificate);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toString();
    }

    static String pem(PemObjectGenerator generator) {
        StringWriter out = new StringWriter();
        try (JcaPEMWriter writer = new JcaPEMWriter(out)) {
            writer.writeObject(generator);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toString();
    }

    /** Writes {@code text} to {@code dir/name}, with CRLF line endings if asked. */
    static Path write(Path dir, String name, String text, boolean crlf) {
        String content = crlf ? text.replace("\r\n", "\n").replace("\n", "\r\n") : text;
        return write(dir, name, content.getBytes(StandardCharsets.US_ASCII));
    }

    static Path write(Path dir, String name, String text) {
        return write(dir, name, text, false);
    }

    static Path write(Path dir, String name, byte[] bytes) {
        try {
            return Files.write(dir.resolve(name), bytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The base64 of the key's PKCS#8 encoding: text that must never appear in a message. */
    static String base64(PrivateKey key) {
        return Base64.getEncoder().encodeToString(key.getEncoded());
    }

    static KeyPair generate(String algorithm, AlgorithmParameterSpec spec) {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance(algorithm);
            generator.initialize(spec);
            return generator.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    static KeyPair generate(String algorithm, int bits) {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance(algorithm);
            generator.initialize(bits);
            return generator.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    static KeyPair ecP256() {
        return generate("EC", new ECGenParameterSpec("secp256r1"));
    }

    /**
     * Whether {@code key} is named as JSSE requires ({@code RSA}, {@code EC}, {@code EdDSA}: it
     * compares the name exactly), whichever providers are registered; never Bouncy Castle's
     * {@code ECDSA} or {@code Ed25519}.
     */
    static boolean hasJsseAlgorithmName(PrivateKey key) {
        return List.of("RSA", "EC", "EdDSA").contains(key.getAlgorithm());
    }

    /** Whether {@code key} signs what {@code publicKey} verifies. */
    static boolean signsFor(PrivateKey key, PublicKey publicKey) {
        String algorithm = switch (publicKey.getAlgorithm()) {
            case "RSA" -> "SHA256withRSA";
            case "EC" -> "SHA256withECDSA";
            default -> "Ed25519";
        };
        try {
            Signature signer = Signature.getInstance(algorithm);
            signer.initSign(key);
            signer.update(new byte[] {1, 2, 3});
            byte[] signature = signer.sign();
            Signature verifier = Signature.getInstance(algorithm);
            verifier.initVerify(publicKey);
            verifier.update(new byte[] {1, 2, 3});
            return verifier.verify(signature);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A self-signed CA certificate ({@code cA=true}) for {@code keys}, signed with SHA256withECDSA. */
    static X509Certificate selfSignedCa(KeyPair keys, String commonName) {
        return certificate(keys.getPublic(), commonName, commonName, keys.getPrivate(), true, Duration.ofDays(1));
    }

    /** A leaf ({@code cA=false}) for {@code key} signed by {@code issuer}'s EC key, with the given URI SANs. */
    static X509Certificate leaf(X509Certificate issuer, PrivateKey issuerKey, PublicKey key, String commonName,
                                String... uris) {
        return certificate(key, commonName, issuer.getSubjectX500Principal().getName(), issuerKey, false,
                Duration.ofDays(1), uris);
    }

    static X509Certificate certificate(PublicKey key, String subject, String issuer, PrivateKey issuerKey,
                                       boolean ca, Duration validity, String... uris) {
        try {
            Instant now = Instant.now();
            X500Name subjectName = subject.contains("=") ? new X500Name(subject) : new X500Name("CN=" + subject);
            X500Name issuerName = issuer.contains("=") ? new X500Name(issuer) : new X500Name("CN=" + issuer);
            JcaX509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(issuerName,
                    new BigInteger(64, new SecureRandom()).setBit(0), Date.from(now.minusSeconds(300)),
                    Date.from(now.plus(validity)), subjectName, key);
            builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(ca));
            if (uris.length > 0) {
                GeneralName[] names = new GeneralName[uris.length];
                for (int i = 0; i < uris.length; i++) {
                    names[i] = new GeneralName(GeneralName.uniformResourceIdentifier, uris[i]);
                }
                builder.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(names));
            }
            String signature = issuerKey.getAlgorithm().equals("RSA") ? "SHA256withRSA" : "SHA256withECDSA";
            return new JcaX509CertificateConverter().getCertificate(
                    builder.build(new JcaContentSignerBuilder(signature).build(issuerKey)));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
