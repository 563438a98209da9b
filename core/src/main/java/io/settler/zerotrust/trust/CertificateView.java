package io.settler.zerotrust.trust;

import io.settler.zerotrust.audit.LogSafe;
import io.settler.zerotrust.trust.PeerVerificationException.Reason;
import java.io.IOException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import javax.security.auth.x500.X500Principal;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1IA5String;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.ASN1OctetString;
import org.bouncycastle.asn1.x509.AuthorityInformationAccess;
import org.bouncycastle.asn1.x509.AuthorityKeyIdentifier;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.CRLDistPoint;
import org.bouncycastle.asn1.x509.Certificate;
import org.bouncycastle.asn1.x509.CertificatePolicies;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.Extensions;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.asn1.x509.NameConstraints;
import org.bouncycastle.asn1.x509.PolicyConstraints;
import org.bouncycastle.asn1.x509.SubjectKeyIdentifier;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.jspecify.annotations.Nullable;

/**
 * One certificate, parsed once with Bouncy Castle's strict ASN.1 structures: what the checks need,
 * or the reason it is malformed. Parsing never throws; {@link #requireWellFormed()} reports.
 */
final class CertificateView {

    static final String SERVER_AUTH = KeyPurposeId.id_kp_serverAuth.getId();
    static final String CLIENT_AUTH = KeyPurposeId.id_kp_clientAuth.getId();
    static final String ANY_EXTENDED_KEY_USAGE = KeyPurposeId.anyExtendedKeyUsage.getId();

    final X509Certificate certificate;
    final X500Principal subject;
    final X500Principal issuer;
    final boolean selfIssued;

    private @Nullable PeerVerificationException malformed;
    @Nullable Certificate structure;
    @Nullable SubjectPublicKeyInfo publicKeyInfo;
    byte @Nullable [] subjectKeyId;
    byte @Nullable [] authorityKeyId;
    boolean hasAuthorityKeyIdentifier;
    boolean authorityKeyIdNamesIssuer;
    boolean hasBasicConstraints;
    boolean basicConstraintsCritical;
    boolean ca;
    @Nullable Integer pathLength;
    boolean @Nullable [] keyUsage;
    @Nullable List<String> extendedKeyUsage;
    boolean extendedKeyUsageCritical;
    boolean hasSubjectAltName;
    boolean subjectAltNameCritical;
    final List<String> dnsNames = new ArrayList<>();
    final List<byte[]> ipAddresses = new ArrayList<>();
    final List<String> uris = new ArrayList<>();
    final Set<Integer> subjectAltNameTypes = new HashSet<>();
    @Nullable GeneralNames subjectAltNames;
    int subjectAltNameCount;
    @Nullable NameConstraints nameConstraints;
    byte @Nullable [] nameConstraintsDer;
    final List<String> unsupportedCriticalExtensions = new ArrayList<>();

    private CertificateView(X509Certificate certificate) {
        this.certificate = certificate;
        this.subject = certificate.getSubjectX500Principal();
        this.issuer = certificate.getIssuerX500Principal();
        this.selfIssued = subject.equals(issuer);
        try {
            parse();
        } catch (RuntimeException | IOException | java.security.cert.CertificateEncodingException e) {
            malformed = new PeerVerificationException(Reason.MALFORMED, "certificate '" + name()
                    + "' is not a well-formed X.509 certificate (" + LogSafe.text(e.getMessage())
                    + "); the issuing CA must re-issue it", e);
        }
    }

    static CertificateView of(X509Certificate certificate) {
        return new CertificateView(certificate);
    }

    /** Throws the parse failure, if any. */
    void requireWellFormed() throws PeerVerificationException {
        if (malformed != null) {
            throw malformed;
        }
    }

    /** The parsed certificate; set unless malformed, so only after {@link #requireWellFormed()}. */
    Certificate structure() {
        return Objects.requireNonNull(structure, "a malformed certificate has no structure: requireWellFormed first");
    }

    /** The parsed public key; set unless malformed, so only after {@link #requireWellFormed()}. */
    SubjectPublicKeyInfo publicKeyInfo() {
        return Objects.requireNonNull(publicKeyInfo, "a malformed certificate has no key: requireWellFormed first");
    }

    /** The subject for messages: escaped and cut ({@link LogSafe#text(String)}), as the peer chose it. */
    String name() {
        String name = subject.getName();
        return name.isEmpty() ? "(empty subject, serial " + certificate.getSerialNumber().toString(16) + ")"
                : LogSafe.text(name);
    }

    /** A name for messages: escaped and cut ({@link LogSafe#text(String)}). */
    static String printable(X500Principal name) {
        return LogSafe.text(name.getName());
    }

    boolean hasKeyUsage(int bit) {
        return keyUsage != null && keyUsage.length > bit && keyUsage[bit];
    }

    boolean sameSubjectAndKey(CertificateView other) {
        return subject.equals(other.subject)
                && Arrays.equals(certificate.getPublicKey().getEncoded(),
                        other.certificate.getPublicKey().getEncoded());
    }

    private void parse() throws IOException, java.security.cert.CertificateEncodingException {
        // Strict DER structures: duplicate extensions and bad encodings throw here.
        structure = Certificate.getInstance(certificate.getEncoded());
        publicKeyInfo = structure.getSubjectPublicKeyInfo();
        Extensions extensions = structure.getTBSCertificate().getExtensions();
        if (extensions == null) {
            return;
        }
        for (ASN1ObjectIdentifier oid : extensions.getExtensionOIDs()) {
            Extension extension = extensions.getExtension(oid);
            ASN1Encodable value = extension.getParsedValue();
            if (oid.equals(Extension.basicConstraints)) {
                BasicConstraints bc = BasicConstraints.getInstance(value);
                hasBasicConstraints = true;
                basicConstraintsCritical = extension.isCritical();
                ca = bc.isCA();
                pathLength = bc.getPathLenConstraint() == null ? null : bc.getPathLenConstraint().intValueExact();
            } else if (oid.equals(Extension.keyUsage)) {
                KeyUsage.getInstance(value);
                keyUsage = certificate.getKeyUsage();
                if (keyUsage == null || !containsTrue(keyUsage)) {
                    throw new IllegalArgumentException("empty key usage extension");
                }
            } else if (oid.equals(Extension.extendedKeyUsage)) {
                KeyPurposeId[] purposes = ExtendedKeyUsage.getInstance(value).getUsages();
                if (purposes.length == 0) {
                    throw new IllegalArgumentException("empty extended key usage extension");
                }
                List<String> oids = new ArrayList<>();
                for (KeyPurposeId purpose : purposes) {
                    oids.add(purpose.getId());
                }
                extendedKeyUsage = Collections.unmodifiableList(oids);
                extendedKeyUsageCritical = extension.isCritical();
            } else if (oid.equals(Extension.subjectAlternativeName)) {
                parseSubjectAltName(GeneralNames.getInstance(value));
                hasSubjectAltName = true;
                subjectAltNameCritical = extension.isCritical();
            } else if (oid.equals(Extension.subjectKeyIdentifier)) {
                requireNonCritical(extension, "subject key identifier");
                subjectKeyId = SubjectKeyIdentifier.getInstance(value).getKeyIdentifier();
            } else if (oid.equals(Extension.authorityKeyIdentifier)) {
                requireNonCritical(extension, "authority key identifier");
                AuthorityKeyIdentifier aki = AuthorityKeyIdentifier.getInstance(value);
                if (aki.getKeyIdentifierObject() == null) {
                    throw new IllegalArgumentException("the authority key identifier has no keyIdentifier");
                }
                authorityKeyIdNamesIssuer = aki.getAuthorityCertIssuer() != null
                        || aki.getAuthorityCertSerialNumber() != null;
                hasAuthorityKeyIdentifier = true;
                authorityKeyId = aki.getKeyIdentifierObject().getOctets();
            } else if (oid.equals(Extension.nameConstraints)) {
                nameConstraints = NameConstraints.getInstance(value);
                nameConstraintsDer = ASN1OctetString.getInstance(extension.getExtnValue()).getOctets();
                if (isEmpty(nameConstraints.getPermittedSubtrees()) && isEmpty(nameConstraints.getExcludedSubtrees())) {
                    throw new IllegalArgumentException("name constraints with neither permitted nor excluded subtrees");
                }
            } else if (oid.equals(Extension.authorityInfoAccess)) {
                requireNonCritical(extension, "authority information access");
                AuthorityInformationAccess.getInstance(value).getAccessDescriptions();
            } else if (oid.equals(Extension.cRLDistributionPoints)) {
                CRLDistPoint.getInstance(value).getDistributionPoints();
            } else if (oid.equals(Extension.certificatePolicies)) {
                CertificatePolicies.getInstance(value).getPolicyInformation();
            } else if (oid.equals(Extension.policyConstraints)) {
                PolicyConstraints.getInstance(value);
                if (!extension.isCritical()) {
                    throw new IllegalArgumentException("the policy constraints extension must be critical");
                }
            } else if (extension.isCritical() && !oid.equals(Extension.policyMappings)
                    && !oid.equals(Extension.inhibitAnyPolicy)) {
                unsupportedCriticalExtensions.add(oid.getId());
            }
        }
    }

    private static boolean containsTrue(boolean[] bits) {
        for (boolean bit : bits) {
            if (bit) {
                return true;
            }
        }
        return false;
    }

    private static boolean isEmpty(Object[] array) {
        return array == null || array.length == 0;
    }

    private static void requireNonCritical(Extension extension, String what) {
        if (extension.isCritical()) {
            throw new IllegalArgumentException("the " + what + " extension must not be critical");
        }
    }

    private void parseSubjectAltName(GeneralNames names) {
        subjectAltNames = names;
        GeneralName[] all = names.getNames();
        subjectAltNameCount = all.length;
        if (all.length == 0) {
            throw new IllegalArgumentException("empty subject alternative name extension");
        }
        for (GeneralName name : all) {
            subjectAltNameTypes.add(name.getTagNo());
            switch (name.getTagNo()) {
                case GeneralName.dNSName -> dnsNames.add(ASN1IA5String.getInstance(name.getName()).getString());
                case GeneralName.uniformResourceIdentifier ->
                        uris.add(ASN1IA5String.getInstance(name.getName()).getString());
                case GeneralName.iPAddress -> {
                    byte[] octets = ASN1OctetString.getInstance(name.getName()).getOctets();
                    if (octets.length != 4 && octets.length != 16) {
                        throw new IllegalArgumentException("an IP address SAN of " + octets.length + " octets");
                    }
                    ipAddresses.add(octets);
                }
                case GeneralName.rfc822Name -> ASN1IA5String.getInstance(name.getName());
                default -> {
                    // otherName, x400Address, directoryName, ediPartyName, registeredID: carried, not matched.
                }
            }
        }
    }
}
