package io.settler.zerotrust.trust;

import io.settler.zerotrust.trust.PeerVerificationException.Reason;
import java.math.BigInteger;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.Arrays;
import java.util.Set;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.edec.EdECObjectIdentifiers;
import org.bouncycastle.asn1.nist.NISTObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.RSAPublicKey;
import org.bouncycastle.asn1.pkcs.RSASSAPSSparams;
import org.bouncycastle.asn1.sec.SECObjectIdentifiers;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;

/**
 * The certificate profile this verifier enforces on top of the JDK's RFC 5280 path validation.
 * Each check throws a {@link PeerVerificationException} that names the certificate and the fix.
 */
final class CertificateRules {

    /** Signature hashes weaker than SHA-256 (MD5, SHA-1, SHA-224) and DSA are refused. */
    private static final Set<ASN1ObjectIdentifier> SIGNATURE_ALGORITHMS = Set.of(
            PKCSObjectIdentifiers.sha256WithRSAEncryption,
            PKCSObjectIdentifiers.sha384WithRSAEncryption,
            PKCSObjectIdentifiers.sha512WithRSAEncryption,
            X9ObjectIdentifiers.ecdsa_with_SHA256,
            X9ObjectIdentifiers.ecdsa_with_SHA384,
            X9ObjectIdentifiers.ecdsa_with_SHA512,
            EdECObjectIdentifiers.id_Ed25519,
            EdECObjectIdentifiers.id_Ed448);

    private static final Set<ASN1ObjectIdentifier> PSS_HASHES = Set.of(
            NISTObjectIdentifiers.id_sha256, NISTObjectIdentifiers.id_sha384, NISTObjectIdentifiers.id_sha512);

    private static final Set<ASN1ObjectIdentifier> EC_CURVES = Set.of(
            SECObjectIdentifiers.secp256r1, SECObjectIdentifiers.secp384r1, SECObjectIdentifiers.secp521r1);

    private static final int MIN_RSA_BITS = 2048;
    private static final int MAX_SERIAL_OCTETS = 20;
    private static final int KEY_CERT_SIGN = 5;
    private static final int DIGITAL_SIGNATURE = 0;

    private CertificateRules() {
    }

    /**
     * Structure, algorithms and keys: what every certificate in a path must satisfy whatever its
     * role. A trust anchor is trusted by configuration, so how it was issued (its signature
     * algorithm, serial number and authority key identifier) is not checked; its key is.
     */
    static void checkProfile(CertificateView view, Role role) throws PeerVerificationException {
        view.requireWellFormed();
        X509Certificate cert = view.certificate;
        String who = role.describe(view);
        if (cert.getVersion() != 3) {
            throw malformed(who + " is an X.509 v" + cert.getVersion() + " certificate; only v3 is accepted");
        }
        BigInteger serial = cert.getSerialNumber();
        if (role != Role.ANCHOR && (serial.signum() <= 0 || serial.toByteArray().length > MAX_SERIAL_OCTETS)) {
            throw malformed(who + " has serial number " + serial.toString(16)
                    + "; RFC 5280 requires a positive serial of at most 20 octets");
        }
        if (!view.structure().getSignatureAlgorithm().equals(view.structure().getTBSCertificate().getSignature())) {
            throw malformed(who + " names different signature algorithms inside and outside its signed part");
        }
        if (view.issuer.getEncoded().length <= 2) {
            throw malformed(who + " has an empty issuer name");
        }
        boolean emptySubject = view.subject.getEncoded().length <= 2;
        if (emptySubject && !(view.hasSubjectAltName && view.subjectAltNameCritical)) {
            throw malformed(who + " has an empty subject and no critical subject alternative name extension");
        }
        if (!emptySubject && view.subjectAltNameCritical) {
            throw malformed(who + " marks its subject alternative names critical although its subject is not empty");
        }
        if (!view.hasAuthorityKeyIdentifier && role != Role.ANCHOR) {
            throw malformed(who + " has no authority key identifier; the issuing CA must add one");
        }
        if (role == Role.ANCHOR && view.selfIssued && view.hasAuthorityKeyIdentifier
                && (view.authorityKeyIdNamesIssuer || view.subjectKeyId == null
                        || !Arrays.equals(view.authorityKeyId, view.subjectKeyId))) {
            throw malformed(who + " is self-issued, so its authority key identifier, if any, must be its own"
                    + " subject key identifier and nothing else");
        }
        if (!view.unsupportedCriticalExtensions.isEmpty()) {
            throw new PeerVerificationException(Reason.UNSUPPORTED_CRITICAL_EXTENSION, who
                    + " carries critical extension(s) " + view.unsupportedCriticalExtensions
                    + " that this verifier does not process; re-issue it without them or mark them non-critical");
        }
        checkPublicKey(view, who);
        if (role != Role.ANCHOR) {
            checkSignatureAlgorithm(view, who);
        }
    }

    static void checkValidity(CertificateView view, Role role, Instant now) throws PeerVerificationException {
        Instant notBefore = view.certificate.getNotBefore().toInstant();
        Instant notAfter = view.certificate.getNotAfter().toInstant();
        if (now.isBefore(notBefore)) {
            throw new PeerVerificationException(Reason.NOT_YET_VALID, role.describe(view) + " is not valid before "
                    + notBefore + " (verification time " + now + "); check the clocks of the issuer and this host");
        }
        if (now.isAfter(notAfter)) {
            throw new PeerVerificationException(Reason.EXPIRED, role.describe(view) + " expired at " + notAfter
                    + " (verification time " + now + "); it must be renewed");
        }
    }

    /** What an issuing certificate (intermediate or anchor) must satisfy for the given purpose. */
    static void checkCertificateAuthority(CertificateView view, Role role, Purpose purpose)
            throws PeerVerificationException {
        String who = role.describe(view);
        if (!view.hasBasicConstraints || !view.ca) {
            throw new PeerVerificationException(Reason.NOT_A_CA, who
                    + " issues certificates but is not a CA (it lacks basicConstraints cA=true)");
        }
        if (!view.basicConstraintsCritical) {
            throw new PeerVerificationException(Reason.NOT_A_CA, who
                    + " is a CA whose basicConstraints extension is not critical, as RFC 5280 requires");
        }
        if (view.keyUsage != null && !view.hasKeyUsage(KEY_CERT_SIGN)) {
            throw new PeerVerificationException(Reason.WRONG_KEY_USAGE, who
                    + " is a CA whose key usage does not include keyCertSign");
        }
        if (view.subject.getEncoded().length <= 2) {
            throw malformed(who + " is a CA with an empty subject name");
        }
        if (view.subjectKeyId == null) {
            throw malformed(who + " is a CA without a subject key identifier; the CA must be re-issued with one");
        }
        if (view.extendedKeyUsage != null && !view.extendedKeyUsage.contains(purpose.oid)
                && !view.extendedKeyUsage.contains(CertificateView.ANY_EXTENDED_KEY_USAGE)) {
            throw new PeerVerificationException(Reason.WRONG_EXTENDED_KEY_USAGE, who
                    + " restricts its extended key usage to " + view.extendedKeyUsage + ", which excludes "
                    + purpose.description);
        }
    }

    /** What the peer's own certificate must satisfy for the given purpose. */
    static void checkEndEntity(CertificateView view, Purpose purpose) throws PeerVerificationException {
        String who = Role.END_ENTITY.describe(view);
        if (view.ca) {
            throw new PeerVerificationException(Reason.END_ENTITY_IS_CA, who
                    + " is a CA certificate (basicConstraints cA=true); a peer must present an end-entity certificate");
        }
        if (view.hasKeyUsage(KEY_CERT_SIGN)) {
            throw new PeerVerificationException(Reason.WRONG_KEY_USAGE, who
                    + " has the keyCertSign key usage, which only CA certificates may have");
        }
        if (view.keyUsage != null && !view.hasKeyUsage(DIGITAL_SIGNATURE)) {
            throw new PeerVerificationException(Reason.WRONG_KEY_USAGE, who
                    + " lacks the digitalSignature key usage that a TLS 1.3 peer needs");
        }
        if (view.nameConstraints != null) {
            throw new PeerVerificationException(Reason.NAME_CONSTRAINTS, who
                    + " carries name constraints, which only CA certificates may carry");
        }
        if (view.extendedKeyUsage == null) {
            throw new PeerVerificationException(Reason.WRONG_EXTENDED_KEY_USAGE, who
                    + " has no extended key usage; it must list " + purpose.description);
        }
        if (view.extendedKeyUsage.contains(CertificateView.ANY_EXTENDED_KEY_USAGE)) {
            throw new PeerVerificationException(Reason.WRONG_EXTENDED_KEY_USAGE, who
                    + " allows anyExtendedKeyUsage; a peer certificate must be limited to the purposes it serves");
        }
        if (!view.extendedKeyUsage.contains(purpose.oid)) {
            throw new PeerVerificationException(Reason.WRONG_EXTENDED_KEY_USAGE, who + " has extended key usage "
                    + view.extendedKeyUsage + ", which does not list " + purpose.description);
        }
    }

    private static void checkPublicKey(CertificateView view, String who) throws PeerVerificationException {
        AlgorithmIdentifier algorithm = view.publicKeyInfo().getAlgorithm();
        ASN1ObjectIdentifier oid = algorithm.getAlgorithm();
        if (oid.equals(PKCSObjectIdentifiers.rsaEncryption) || oid.equals(PKCSObjectIdentifiers.id_RSASSA_PSS)) {
            int bits;
            try {
                bits = RSAPublicKey.getInstance(view.publicKeyInfo().parsePublicKey()).getModulus().bitLength();
            } catch (java.io.IOException | RuntimeException e) {
                throw malformed(who + " has an unreadable RSA public key");
            }
            if (bits < MIN_RSA_BITS || bits % 8 != 0) {
                throw new PeerVerificationException(Reason.WEAK_KEY, who + " has a " + bits
                        + "-bit RSA key; at least " + MIN_RSA_BITS + " bits (a multiple of 8) are required");
            }
        } else if (oid.equals(X9ObjectIdentifiers.id_ecPublicKey)) {
            if (!(algorithm.getParameters() instanceof ASN1ObjectIdentifier curve) || !EC_CURVES.contains(curve)) {
                throw new PeerVerificationException(Reason.WEAK_KEY, who
                        + " has an EC key on a curve other than the named curves P-256, P-384 and P-521");
            }
        } else if (!oid.equals(EdECObjectIdentifiers.id_Ed25519) && !oid.equals(EdECObjectIdentifiers.id_Ed448)) {
            throw new PeerVerificationException(Reason.WEAK_KEY, who + " has a " + keyName(oid)
                    + " key; only RSA (2048 bits or more), EC P-256/P-384/P-521 and Ed25519/Ed448 are accepted");
        }
    }

    private static void checkSignatureAlgorithm(CertificateView view, String who) throws PeerVerificationException {
        AlgorithmIdentifier algorithm = view.structure().getSignatureAlgorithm();
        ASN1ObjectIdentifier oid = algorithm.getAlgorithm();
        if (SIGNATURE_ALGORITHMS.contains(oid)) {
            return;
        }
        if (oid.equals(PKCSObjectIdentifiers.id_RSASSA_PSS)) {
            try {
                RSASSAPSSparams params = RSASSAPSSparams.getInstance(algorithm.getParameters());
                if (params != null && PSS_HASHES.contains(params.getHashAlgorithm().getAlgorithm())) {
                    return;
                }
            } catch (RuntimeException e) {
                throw malformed(who + " has unreadable RSASSA-PSS parameters");
            }
        }
        throw new PeerVerificationException(Reason.WEAK_ALGORITHM, who + " is signed with "
                + view.certificate.getSigAlgName() + " (" + oid.getId() + "); its issuer must sign with SHA-256 or"
                + " stronger using RSA, RSASSA-PSS, ECDSA or EdDSA (MD5, SHA-1 and DSA are refused)");
    }

    private static String keyName(ASN1ObjectIdentifier oid) {
        if (oid.equals(X9ObjectIdentifiers.id_dsa)) {
            return "DSA";
        }
        return "unsupported (" + oid.getId() + ")";
    }

    private static PeerVerificationException malformed(String message) {
        return new PeerVerificationException(Reason.MALFORMED, message);
    }

    /** The role a certificate plays in a path, for messages. */
    enum Role {
        END_ENTITY("the peer's certificate"),
        INTERMEDIATE("intermediate CA"),
        ANCHOR("trust anchor");

        private final String label;

        Role(String label) {
            this.label = label;
        }

        String describe(CertificateView view) {
            return label + " '" + view.name() + "'";
        }
    }

    /** What the peer is verified for: the extended key usage its certificate must carry. */
    enum Purpose {
        SERVER(CertificateView.SERVER_AUTH, "serverAuth (1.3.6.1.5.5.7.3.1), needed for a TLS server"),
        CLIENT(CertificateView.CLIENT_AUTH, "clientAuth (1.3.6.1.5.5.7.3.2), needed for a TLS client");

        final String oid;
        final String description;

        Purpose(String oid, String description) {
            this.oid = oid;
            this.description = description;
        }
    }
}
