package io.settler.zerotrust.trust;

import io.settler.zerotrust.audit.LogSafe;
import io.settler.zerotrust.trust.PeerVerificationException.Reason;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.function.IntFunction;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1IA5String;
import org.bouncycastle.asn1.ASN1OctetString;
import org.bouncycastle.asn1.ASN1String;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x500.AttributeTypeAndValue;
import org.bouncycastle.asn1.x500.RDN;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralSubtree;
import org.bouncycastle.asn1.x509.NameConstraintValidatorException;
import org.bouncycastle.asn1.x509.NameConstraints;
import org.bouncycastle.asn1.x509.PKIXNameConstraintValidator;

/**
 * Name constraints on DNS names and IP addresses, checked by this verifier itself for every CA in
 * the path (trust anchor included) against the subject alternative names of every certificate
 * below it. The JDK's validator also checks them, but misses cases (wildcard names that could
 * reach an excluded subtree, constraints in trust anchors, malformed constraints). Name types the
 * verifier cannot evaluate (otherName, x400Address, ediPartyName, registeredID) fail closed when a
 * CA constrains that type and a certificate below carries it. Directory names, e-mail addresses
 * and URIs are checked with Bouncy Castle's RFC 5280 name constraint validator, so that every name
 * form is covered here and the JDK's extra check of the subject common name against DNS and IP
 * constraints (a name this verifier never uses) can be set aside.
 */
final class NameConstraintRules {

    private static final int[] OPAQUE_TYPES = {
        GeneralName.otherName, GeneralName.x400Address, GeneralName.ediPartyName, GeneralName.registeredID
    };

    /** Most (name, constraint) comparisons for one CA and one certificate: a denial-of-service guard. */
    private static final long MAX_COMPARISONS = 250_000;
    private static final Set<Integer> BC_TYPES = Set.of(
            GeneralName.rfc822Name, GeneralName.directoryName, GeneralName.uniformResourceIdentifier);

    private NameConstraintRules() {
    }

    /** The parsed constraints of one CA, validated when the CA enters a path. */
    @SuppressWarnings("ArrayRecordComponent") // built once per CA, never compared or handed out
    record Constraints(List<String> permittedDns, List<String> excludedDns,
                       List<byte[]> permittedIp, List<byte[]> excludedIp,
                       boolean[] constrainedTypes, int size) {

        boolean hasDns() {
            return !permittedDns.isEmpty() || !excludedDns.isEmpty();
        }
    }

    /** Parses and validates a CA's constraints, or explains why they are invalid. */
    static Optional<Constraints> parse(CertificateView ca, String who) throws PeerVerificationException {
        NameConstraints nc = ca.nameConstraints;
        if (nc == null) {
            return Optional.empty();
        }
        List<String> permittedDns = new ArrayList<>();
        List<String> excludedDns = new ArrayList<>();
        List<byte[]> permittedIp = new ArrayList<>();
        List<byte[]> excludedIp = new ArrayList<>();
        boolean[] types = new boolean[9];
        add(nc.getPermittedSubtrees(), permittedDns, permittedIp, types, who);
        add(nc.getExcludedSubtrees(), excludedDns, excludedIp, types, who);
        int size = length(nc.getPermittedSubtrees()) + length(nc.getExcludedSubtrees());
        return Optional.of(new Constraints(permittedDns, excludedDns, permittedIp, excludedIp, types, size));
    }

    private static void add(GeneralSubtree[] subtrees, List<String> dns, List<byte[]> ip, boolean[] types, String who)
            throws PeerVerificationException {
        if (subtrees == null) {
            return;
        }
        for (GeneralSubtree subtree : subtrees) {
            if ((subtree.getMinimum() != null && subtree.getMinimum().signum() != 0) || subtree.getMaximum() != null) {
                throw invalid(who, "uses minimum/maximum in a subtree, which RFC 5280 forbids");
            }
            GeneralName base = subtree.getBase();
            types[base.getTagNo()] = true;
            if (base.getTagNo() == GeneralName.dNSName) {
                String name = ASN1IA5String.getInstance(base.getName()).getString().toLowerCase(Locale.ROOT);
                if (!name.isEmpty() && DnsNames.syntaxProblem(name, false).isPresent()) {
                    throw invalid(who, "has an invalid DNS name constraint '" + DnsNames.printable(name) + "'");
                }
                dns.add(name);
            } else if (base.getTagNo() == GeneralName.iPAddress) {
                byte[] octets = ASN1OctetString.getInstance(base.getName()).getOctets();
                if ((octets.length != 8 && octets.length != 32) || !contiguousMask(octets)) {
                    throw invalid(who, "has an invalid IP address constraint (" + octets.length
                            + " octets or a non-contiguous mask)");
                }
                ip.add(octets);
            }
        }
    }

    private static int length(Object[] array) {
        return array == null ? 0 : array.length;
    }

    /** Checks the DNS and IP SANs of {@code subject} against the constraints of a CA above it. */
    static void check(Constraints constraints, CertificateView subject, String subjectWho, String caWho)
            throws PeerVerificationException {
        long names = subject.subjectAltNameCount + 1L
                + X500Name.getInstance(subject.subject.getEncoded()).getRDNs().length;
        if (names * constraints.size() > MAX_COMPARISONS) {
            throw new PeerVerificationException(Reason.PATH_SEARCH_LIMIT, subjectWho + " has " + names
                    + " names to check against " + constraints.size() + " name constraints of " + caWho
                    + "; that is more work than allowed");
        }
        for (String raw : subject.dnsNames) {
            if (!constraints.hasDns()) {
                break;
            }
            Optional<String> name = DnsNames.canonicalPresentedName(raw);
            if (name.isEmpty()) {
                throw violation(subjectWho, "has the malformed DNS name '" + DnsNames.printable(raw)
                        + "', which cannot be checked against the name constraints of " + caWho);
            }
            for (String excluded : constraints.excludedDns()) {
                if (couldReach(name.get(), excluded)) {
                    throw violation(subjectWho, "names '" + name.get() + "', which falls in the subtree '" + excluded
                            + "' excluded by " + caWho);
                }
            }
            if (!constraints.permittedDns().isEmpty()
                    && constraints.permittedDns().stream().noneMatch(p -> within(name.get(), p))) {
                throw violation(subjectWho, "names '" + name.get() + "', which is outside the DNS subtrees "
                        + constraints.permittedDns() + " permitted by " + caWho);
            }
        }
        for (byte[] address : subject.ipAddresses) {
            for (byte[] excluded : constraints.excludedIp()) {
                if (inNetwork(address, excluded)) {
                    throw violation(subjectWho, "has an IP address in a network excluded by " + caWho);
                }
            }
            if (!constraints.permittedIp().isEmpty()
                    && constraints.permittedIp().stream().noneMatch(p -> inNetwork(address, p))) {
                throw violation(subjectWho, "has an IP address outside the networks permitted by " + caWho);
            }
        }
        for (int type : OPAQUE_TYPES) {
            if (constraints.constrainedTypes()[type] && subject.subjectAltNameTypes.contains(type)) {
                throw violation(subjectWho, "has a subject alternative name of type " + type + ", which " + caWho
                        + " constrains and this verifier cannot evaluate");
            }
        }
    }

    /**
     * Directory name, e-mail and URI constraints along the whole path (anchor first, as RFC 5280
     * section 6.1 processes them), for every certificate below the anchor that is not self-issued,
     * and the leaf.
     */
    static void checkDirectoryEmailAndUri(List<CertificateView> path, IntFunction<String> who)
            throws PeerVerificationException {
        PKIXNameConstraintValidator validator = new PKIXNameConstraintValidator();
        int last = path.size() - 1;
        boolean constrained = false;
        for (int i = last; i >= 0; i--) {
            CertificateView view = path.get(i);
            if (constrained && i < last && (i == 0 || !view.selfIssued)) {
                checkNames(validator, view, who.apply(i));
            }
            NameConstraints nc = view.nameConstraints;
            if (nc == null || i == 0) {
                continue;
            }
            try {
                List<GeneralSubtree> permitted = new ArrayList<>();
                for (GeneralSubtree subtree : nc.getPermittedSubtrees() == null
                        ? new GeneralSubtree[0] : nc.getPermittedSubtrees()) {
                    if (BC_TYPES.contains(subtree.getBase().getTagNo())) {
                        permitted.add(subtree);
                    }
                }
                if (!permitted.isEmpty()) {
                    validator.intersectPermittedSubtree(permitted.toArray(GeneralSubtree[]::new));
                    constrained = true;
                }
                for (GeneralSubtree subtree : nc.getExcludedSubtrees() == null
                        ? new GeneralSubtree[0] : nc.getExcludedSubtrees()) {
                    if (BC_TYPES.contains(subtree.getBase().getTagNo())) {
                        validator.addExcludedSubtree(subtree);
                        constrained = true;
                    }
                }
            } catch (RuntimeException e) {
                throw invalid(who.apply(i), "has name constraints that cannot be processed ("
                        + LogSafe.text(e.getMessage()) + ")");
            }
        }
    }

    private static void checkNames(PKIXNameConstraintValidator validator, CertificateView view, String who)
            throws PeerVerificationException {
        try {
            X500Name subject = X500Name.getInstance(view.subject.getEncoded());
            if (subject.getRDNs().length > 0) {
                validator.checkPermittedDN(subject);
                validator.checkExcludedDN(subject);
                for (RDN rdn : subject.getRDNs()) {
                    for (AttributeTypeAndValue value : rdn.getTypesAndValues()) {
                        if (value.getType().equals(PKCSObjectIdentifiers.pkcs_9_at_emailAddress)) {
                            String email = emailOf(value.getValue());
                            validator.checkPermittedEmail(email);
                            validator.checkExcludedEmail(email);
                        }
                    }
                }
            }
            if (view.subjectAltNames != null) {
                for (GeneralName name : view.subjectAltNames.getNames()) {
                    if (BC_TYPES.contains(name.getTagNo())) {
                        validator.checkPermitted(name);
                        validator.checkExcluded(name);
                    }
                }
            }
        } catch (NameConstraintValidatorException e) {
            throw violation(who, "is outside the name constraints of a CA above it: "
                    + LogSafe.text(e.getMessage()));
        } catch (RuntimeException e) {
            throw violation(who, "has names that cannot be checked against the name constraints above it ("
                    + LogSafe.text(e.getMessage()) + ")");
        }
    }

    private static String emailOf(ASN1Encodable value) {
        if (value instanceof ASN1String string) {
            return string.getString();
        }
        throw new IllegalArgumentException("an emailAddress attribute that is not a string");
    }

    /** Whether every name the (possibly wildcard) presented name can match lies in the subtree. */
    static boolean within(String presented, String subtree) {
        String name = presented.startsWith("*.") ? presented.substring(2) : presented;
        return subtree.isEmpty() || name.equals(subtree) || name.endsWith("." + subtree);
    }

    /** Whether some name the (possibly wildcard) presented name can match lies in the subtree. */
    static boolean couldReach(String presented, String subtree) {
        if (within(presented, subtree)) {
            return true;
        }
        if (presented.startsWith("*.")) {
            String base = presented.substring(1); // ".example.com"
            if (subtree.endsWith(base)) {
                String first = subtree.substring(0, subtree.length() - base.length());
                return !first.isEmpty() && first.indexOf('.') < 0;
            }
        }
        return false;
    }

    private static boolean inNetwork(byte[] address, byte[] network) {
        int length = network.length / 2;
        if (address.length != length) {
            return false;
        }
        for (int i = 0; i < length; i++) {
            if ((address[i] & network[length + i]) != (network[i] & network[length + i])) {
                return false;
            }
        }
        return true;
    }

    private static boolean contiguousMask(byte[] octets) {
        int length = octets.length / 2;
        boolean zeroSeen = false;
        for (int i = length; i < octets.length; i++) {
            for (int bit = 7; bit >= 0; bit--) {
                boolean one = (octets[i] >> bit & 1) == 1;
                if (one && zeroSeen) {
                    return false;
                }
                zeroSeen |= !one;
            }
        }
        return true;
    }

    private static PeerVerificationException invalid(String who, String what) {
        return new PeerVerificationException(Reason.NAME_CONSTRAINTS, who + " " + what
                + "; the CA must be re-issued with valid name constraints");
    }

    private static PeerVerificationException violation(String who, String what) {
        return new PeerVerificationException(Reason.NAME_CONSTRAINTS, who + " " + what);
    }
}
