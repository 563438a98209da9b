package io.settler.zerotrust.credentials;

import io.settler.zerotrust.credentials.CredentialException.Reason;
import io.settler.zerotrust.identity.CertificateIdentityException;
import io.settler.zerotrust.identity.ServiceIdentity;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.CertPathBuilder;
import java.security.cert.CertPathBuilderException;
import java.security.cert.CertStore;
import java.security.cert.CollectionCertStoreParameters;
import java.security.cert.PKIXBuilderParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509CertSelector;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.Date;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The load-time checks of a TLS identity, in the order a person fixing the files needs them: the
 * chain is linked, the leaf is not a CA, the keys are allowed, the key matches the leaf, the leaf is
 * valid now, and its SPIFFE identity (if any) is well formed and unique.
 */
final class ChainValidator {

    private static final Logger LOG = LoggerFactory.getLogger(ChainValidator.class);
    private static final SecureRandom RANDOM = new SecureRandom();
    /** Out-of-order diagnosis tries every pair; above this size a plain "not linked" must do. */
    private static final int MAX_DIAGNOSED_CHAIN = 10;

    private ChainValidator() {
    }

    /**
     * Where the credentials came from, as noun phrases for messages.
     *
     * @param chain e.g. {@code the chain in /etc/tls/chain.pem}
     * @param key e.g. {@code the private key in /etc/tls/key.pem}
     */
    record Origin(String chain, String key) {
    }

    /** Runs every check; returns the leaf's service identity, if it has one. */
    static Optional<ServiceIdentity> validate(PrivateKey key, List<X509Certificate> chain, Instant now,
                                             Origin origin) {
        if (chain.isEmpty()) {
            throw new CredentialException(Reason.NO_CERTIFICATE, origin.chain()
                    + " is empty: pass the leaf certificate first, then its intermediates");
        }
        X509Certificate leaf = chain.get(0);
        String leafPhrase = "the leaf certificate " + Certificates.describe(leaf) + " (first in "
                + origin.chain() + ")";
        checkLinked(chain, origin);
        if (Certificates.isCa(leaf)) {
            throw new CredentialException(Reason.LEAF_IS_CA, leafPhrase + " is a CA certificate (basicConstraints"
                    + " cA=true): a service must present its own leaf certificate, issued with cA=false");
        }
        KeyPolicy.checkPrivateKey(key, origin.key());
        KeyPolicy.checkPublicKey(leaf.getPublicKey(), "the key of " + leafPhrase);
        checkKeyMatches(key, leaf, leafPhrase, origin);
        checkValidity(chain, now, leafPhrase, origin);
        return serviceIdentity(leaf, leafPhrase);
    }

    /**
     * Checks that the leaf of {@code chain} leads, through the chain's own certificates, to an anchor
     * of {@code trust} at {@code now}, as a peer holding the same bundle would find it: PKIX
     * signatures, validity and CA constraints along the path (no revocation). Certificates the path
     * does not need, such as a cross-signed root at the end, are ignored.
     *
     * @param trustPhrase e.g. {@code the trust bundle in /etc/tls/ca.crt}
     * @throws CredentialException {@link Reason#UNTRUSTED_CHAIN} if no such path exists
     */
    static void checkAnchored(List<X509Certificate> chain, TrustBundle trust, Instant now, Origin origin,
                              String trustPhrase) {
        X509Certificate leaf = chain.get(0);
        Set<TrustAnchor> anchors = new HashSet<>();
        for (X509Certificate anchor : trust.anchors()) {
            anchors.add(new TrustAnchor(anchor, null));
        }
        X509CertSelector target = new X509CertSelector();
        target.setCertificate(leaf);
        try {
            PKIXBuilderParameters parameters = new PKIXBuilderParameters(anchors, target);
            parameters.setRevocationEnabled(false);
            parameters.setDate(Date.from(now));
            parameters.addCertStore(CertStore.getInstance("Collection", new CollectionCertStoreParameters(chain)));
            CertPathBuilder.getInstance("PKIX").build(parameters);
        } catch (CertPathBuilderException e) {
            throw new CredentialException(Reason.UNTRUSTED_CHAIN, "the leaf certificate " + Certificates.describe(leaf)
                    + " (first in " + origin.chain() + ") does not chain to " + trustPhrase + " at " + now + " ("
                    + Certificates.printable(String.valueOf(e.getMessage())) + "): write a certificate and key issued"
                    + " by a CA in that bundle, with its intermediates (a certificate from another CA is not a"
                    + " rotation), or add the new CA to the bundle first");
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this JVM cannot build PKIX certificate paths", e);
        }
    }

    private static void checkLinked(List<X509Certificate> chain, Origin origin) {
        for (int i = 0; i + 1 < chain.size(); i++) {
            X509Certificate certificate = chain.get(i);
            X509Certificate next = chain.get(i + 1);
            boolean named = certificate.getIssuerX500Principal().equals(next.getSubjectX500Principal());
            if (named && Certificates.signedBy(certificate, next)) {
                continue;
            }
            String position = "certificate " + (i + 1) + " " + Certificates.describe(certificate);
            if (outOfOrder(chain)) {
                throw new CredentialException(Reason.CHAIN_NOT_LINKED, origin.chain() + " is out of order: "
                        + position + " is followed by " + Certificates.describe(next) + ", which did not issue it;"
                        + " order it leaf first, then each certificate's issuer");
            }
            if (named) {
                throw new CredentialException(Reason.CHAIN_NOT_LINKED, origin.chain() + " is not linked: "
                        + position + " names '" + Certificates.issuer(certificate) + "' as its issuer and the next"
                        + " certificate has that name, but its key did not sign it (a certificate from another CA"
                        + " with the same name, e.g. before a CA rotation?): use the intermediate that issued it");
            }
            throw new CredentialException(Reason.CHAIN_NOT_LINKED, origin.chain() + " is not linked: " + position
                    + " was issued by '" + Certificates.issuer(certificate) + "' but is followed by "
                    + Certificates.describe(next) + ": put its issuer next, or remove the unrelated certificate");
        }
    }

    /** Whether some certificate's issuer is in the chain, but not right after it. */
    private static boolean outOfOrder(List<X509Certificate> chain) {
        if (chain.size() > MAX_DIAGNOSED_CHAIN) {
            return false;
        }
        for (int k = 0; k < chain.size(); k++) {
            for (int m = 0; m < chain.size(); m++) {
                X509Certificate subject = chain.get(k);
                X509Certificate issuer = chain.get(m);
                if (m != k && m != k + 1
                        && subject.getIssuerX500Principal().equals(issuer.getSubjectX500Principal())
                        && Certificates.signedBy(subject, issuer)) {
                    return true;
                }
            }
        }
        return false;
    }

    private static void checkKeyMatches(PrivateKey key, X509Certificate leaf, String leafPhrase, Origin origin) {
        PublicKey publicKey = leaf.getPublicKey();
        String keyFamily = family(key.getAlgorithm());
        String leafFamily = family(publicKey.getAlgorithm());
        if (!keyFamily.equals(leafFamily)) {
            throw new CredentialException(Reason.KEY_MISMATCH, origin.key() + " is " + article(keyFamily)
                    + " key but " + leafPhrase + " holds " + article(leafFamily) + " key: pass the key that was"
                    + " issued with this certificate");
        }
        if (!signsFor(key, publicKey, keyFamily, origin)) {
            throw new CredentialException(Reason.KEY_MISMATCH, origin.key() + " does not belong to " + leafPhrase
                    + ": pass the key that was issued with this certificate (key and certificate files from"
                    + " different rotations?)");
        }
    }

    /**
     * Signs a random challenge with the private key and verifies it with the leaf's public key:
     * works the same for RSA, EC and Ed25519, and for keys whose public half cannot be derived.
     */
    private static boolean signsFor(PrivateKey key, PublicKey publicKey, String family, Origin origin) {
        String algorithm = switch (family) {
            case "RSA" -> "SHA256withRSA";
            case "EC" -> "SHA256withECDSA";
            default -> "Ed25519";
        };
        byte[] challenge = new byte[32];
        RANDOM.nextBytes(challenge);
        byte[] signature;
        try {
            Signature signer = Signature.getInstance(algorithm);
            signer.initSign(key);
            signer.update(challenge);
            signature = signer.sign();
        } catch (java.security.InvalidKeyException e) {
            if (key.getEncoded() != null) {
                // A software key of the right family that the JDK refuses to sign with is not a key for
                // this leaf (e.g. a P-384 scalar read on the leaf's P-256 curve; JDK 25 checks its range).
                return false;
            }
            throw new CredentialException(Reason.UNSUPPORTED_KEY_FORMAT, origin.key() + " cannot sign with "
                    + algorithm + " in this JVM (" + e.getClass().getSimpleName() + "): pass a key object the JDK's"
                    + " providers can use");
        } catch (GeneralSecurityException | RuntimeException e) {
            throw new CredentialException(Reason.UNSUPPORTED_KEY_FORMAT, origin.key() + " cannot sign with "
                    + algorithm + " in this JVM (" + e.getClass().getSimpleName() + "): pass a key object the JDK's"
                    + " providers can use");
        }
        try {
            Signature verifier = Signature.getInstance(algorithm);
            verifier.initVerify(publicKey);
            verifier.update(challenge);
            return verifier.verify(signature);
        } catch (GeneralSecurityException | RuntimeException e) {
            return false;
        }
    }

    private static void checkValidity(List<X509Certificate> chain, Instant now, String leafPhrase, Origin origin) {
        X509Certificate leaf = chain.get(0);
        Instant notBefore = leaf.getNotBefore().toInstant();
        Instant notAfter = leaf.getNotAfter().toInstant();
        if (now.isBefore(notBefore)) {
            throw new CredentialException(Reason.NOT_YET_VALID, leafPhrase + " is not valid before " + notBefore
                    + " (now " + now + "): check this host's clock, or use the current certificate until then");
        }
        if (now.isAfter(notAfter)) {
            throw new CredentialException(Reason.EXPIRED, leafPhrase + " expired at " + notAfter + " (now " + now
                    + "): renew it");
        }
        // Expired intermediates or roots are left to the peer: chains sometimes carry an expired
        // cross-signed root on purpose, for old clients.
        for (int i = 1; i < chain.size(); i++) {
            X509Certificate certificate = chain.get(i);
            if (now.isAfter(certificate.getNotAfter().toInstant())
                    || now.isBefore(certificate.getNotBefore().toInstant())) {
                LOG.warn("event=chain_certificate_outside_validity source=\"{}\" position={} subject=\"{}\""
                                + " fingerprint={} not_before={} not_after={}",
                        origin.chain(), i + 1, Certificates.subject(certificate), Certificates.fingerprint(certificate),
                        certificate.getNotBefore().toInstant(), certificate.getNotAfter().toInstant());
            }
        }
    }

    /** The leaf's identity by {@link ServiceIdentity#fromCertificate}, the one rule for every certificate. */
    private static Optional<ServiceIdentity> serviceIdentity(X509Certificate leaf, String leafPhrase) {
        try {
            return ServiceIdentity.fromCertificate(leaf);
        } catch (CertificateIdentityException e) {
            throw new CredentialException(Reason.INVALID_SERVICE_IDENTITY, leafPhrase + " is refused: "
                    + e.getMessage(), e);
        }
    }

    /** RSA, EC or EdDSA (the JDK and BC name these differently); anything else as named. */
    private static String family(String algorithm) {
        return switch (algorithm) {
            case "RSA" -> "RSA";
            case "EC", "ECDSA" -> "EC";
            case "EdDSA", "Ed25519" -> "Ed25519";
            default -> algorithm;
        };
    }

    private static String article(String family) {
        return (family.startsWith("RSA") || family.startsWith("EC") || family.startsWith("Ed") ? "an " : "a ") + family;
    }
}
