package io.settler.zerotrust.identity;

import io.settler.zerotrust.audit.LogSafe;
import io.settler.zerotrust.identity.CertificateIdentityException.Reason;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.bouncycastle.asn1.ASN1IA5String;
import org.bouncycastle.asn1.ASN1OctetString;
import org.bouncycastle.asn1.ASN1Primitive;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;

/**
 * A service identity in SPIFFE form, {@code spiffe://<trust-domain>/<path>}, as carried in the
 * URI SAN of a certificate.
 *
 * <p>Parsing follows the SPIFFE ID rules: lower-case {@code spiffe} scheme; a trust domain of
 * lower-case letters, digits, {@code .}, {@code -} and {@code _} with no port or user info; a
 * non-empty path of segments made of letters, digits, {@code .}, {@code -} and {@code _}, with no
 * empty, {@code .} or {@code ..} segment and no trailing slash; no query or fragment; at most
 * 2048 bytes. Anything else is refused with an {@link InvalidServiceIdentityException}, so two
 * equal identities always have the same text. The trust domain is a {@link TrustDomain}.
 *
 * <p>{@link #fromCertificate} is the one place a certificate's identity is read, by our own
 * credentials, the peer verifier and the transports alike.
 *
 * @param trustDomain the trust domain, e.g. {@code prod.example.org}
 * @param path the path without its leading slash, e.g. {@code payments/api}
 */
public record ServiceIdentity(TrustDomain trustDomain, String path) {

    private static final String PREFIX = "spiffe://";
    private static final String SCHEME = "spiffe:";
    private static final int MAX_ID_BYTES = 2048;

    /**
     * Validates the path and the length; see the class description for the rules.
     *
     * @throws InvalidServiceIdentityException if the path breaks them
     */
    public ServiceIdentity {
        Objects.requireNonNull(trustDomain, "trustDomain");
        Objects.requireNonNull(path, "path");
        String id = PREFIX + trustDomain.name() + "/" + path;
        Optional<String> broken = pathProblem(path);
        if (broken.isEmpty() && id.getBytes(StandardCharsets.UTF_8).length > MAX_ID_BYTES) {
            broken = Optional.of("a SPIFFE ID may be at most " + MAX_ID_BYTES + " bytes long");
        }
        if (broken.isPresent()) {
            throw new InvalidServiceIdentityException(id, broken.get());
        }
    }

    /**
     * Builds an identity from its parts.
     *
     * @param trustDomain the trust domain, e.g. {@code example.org}
     * @param path the path, with or without a leading slash, e.g. {@code api} or {@code /ns/prod/api}
     * @return the identity
     * @throws InvalidServiceIdentityException if either part breaks the SPIFFE ID rules
     */
    public static ServiceIdentity of(String trustDomain, String path) {
        Objects.requireNonNull(trustDomain, "trustDomain");
        Objects.requireNonNull(path, "path");
        Optional<String> broken = TrustDomain.problem(trustDomain);
        if (broken.isPresent()) {
            throw new InvalidServiceIdentityException(PREFIX + trustDomain + "/" + path, broken.get());
        }
        return of(new TrustDomain(trustDomain), path);
    }

    /**
     * Builds an identity in {@code trustDomain}.
     *
     * @param trustDomain the trust domain
     * @param path the path, with or without a leading slash, e.g. {@code api} or {@code /ns/prod/api}
     * @return the identity
     * @throws InvalidServiceIdentityException if the path breaks the SPIFFE ID rules
     */
    public static ServiceIdentity of(TrustDomain trustDomain, String path) {
        Objects.requireNonNull(path, "path");
        return new ServiceIdentity(trustDomain, path.startsWith("/") ? path.substring(1) : path);
    }

    /**
     * Parses a SPIFFE ID such as {@code spiffe://example.org/api}.
     *
     * @param spiffeId the ID text
     * @return the identity
     * @throws InvalidServiceIdentityException if the text is not a valid SPIFFE ID
     */
    public static ServiceIdentity parse(String spiffeId) {
        Objects.requireNonNull(spiffeId, "spiffeId");
        if (!spiffeId.startsWith(PREFIX)) {
            throw new InvalidServiceIdentityException(spiffeId,
                    "it must start with spiffe:// (lower case), e.g. spiffe://example.org/api");
        }
        String rest = spiffeId.substring(PREFIX.length());
        int slash = rest.indexOf('/');
        if (slash < 0) {
            throw new InvalidServiceIdentityException(spiffeId,
                    "it needs a path after the trust domain, e.g. spiffe://example.org/api");
        }
        String trustDomain = rest.substring(0, slash);
        Optional<String> broken = TrustDomain.problem(trustDomain);
        if (broken.isPresent()) {
            throw new InvalidServiceIdentityException(spiffeId, broken.get());
        }
        return new ServiceIdentity(new TrustDomain(trustDomain), rest.substring(slash + 1));
    }

    /**
     * The SPIFFE identity a certificate carries: the one rule every part of the library uses,
     * for our own credentials ({@code TlsIdentity}), for peers ({@code PeerCertificateVerifier}
     * and the trust manager built on it) and for what transports publish to handlers.
     *
     * <p>The rule, strictest of those the library used before (X.509-SVID: an SVID carries exactly
     * one URI SAN, its SPIFFE ID):
     * <ol>
     *   <li>A URI subject alternative name whose scheme is {@code spiffe}, in any letter case, is a
     *       claim of a SPIFFE identity; other URI SANs are not.</li>
     *   <li>No such claim: empty, whatever other names the certificate carries. Such a certificate
     *       (DNS or IP names only, or a non-SPIFFE URI) may still be a valid TLS peer; it just
     *       identifies no service, so identity rules never match it.</li>
     *   <li>A claim together with any other URI SAN, a second SPIFFE ID or an {@code https:} URI
     *       alike: refused ({@link CertificateIdentityException.Reason#SEVERAL_URI_NAMES}). Which of
     *       several identities is meant cannot be decided safely, so none is picked, and the peer
     *       verifier refuses such a peer outright.</li>
     *   <li>The one claim must be a valid SPIFFE ID by {@link #parse}: a {@code SPIFFE://} scheme,
     *       an upper-case trust domain, a port, a query and so on are refused
     *       ({@link CertificateIdentityException.Reason#INVALID_SPIFFE_ID}), never normalized.</li>
     *   <li>An unparseable subject alternative name extension is refused
     *       ({@link CertificateIdentityException.Reason#UNREADABLE_NAMES}), never read as "no name".</li>
     * </ol>
     * The subject common name is never used.
     *
     * @param certificate the certificate, normally a leaf
     * @return its identity, or empty if it claims none
     * @throws CertificateIdentityException if it claims one in a way the rule refuses; the message
     *     says how to reissue it
     */
    public static Optional<ServiceIdentity> fromCertificate(X509Certificate certificate) {
        Objects.requireNonNull(certificate, "certificate");
        // Read with Bouncy Castle, as the peer verifier reads it: the JDK drops a SAN extension
        // holding a URI it cannot parse and reports "no names", which must not pass for no claim.
        byte[] value = certificate.getExtensionValue(Extension.subjectAlternativeName.getId());
        if (value == null) {
            return Optional.empty();
        }
        List<String> uris = new ArrayList<>();
        try {
            GeneralNames names = GeneralNames.getInstance(
                    ASN1Primitive.fromByteArray(ASN1OctetString.getInstance(value).getOctets()));
            for (GeneralName name : names.getNames()) {
                if (name.getTagNo() == GeneralName.uniformResourceIdentifier) {
                    uris.add(ASN1IA5String.getInstance(name.getName()).getString());
                }
            }
        } catch (IOException | RuntimeException e) {
            throw new CertificateIdentityException(Reason.UNREADABLE_NAMES, "its subject alternative name extension"
                    + " cannot be parsed: reissue it with a well-formed one", e);
        }
        List<String> spiffe = uris.stream().filter(uri -> uri.regionMatches(true, 0, SCHEME, 0, SCHEME.length()))
                .toList();
        if (spiffe.isEmpty()) {
            return Optional.empty();
        }
        if (uris.size() > 1) {
            throw new CertificateIdentityException(Reason.SEVERAL_URI_NAMES, "it carries " + uris.size()
                    + " URI SANs (" + LogSafe.text(String.join(", ", uris)) + "), " + spiffe.size()
                    + " of them spiffe:// IDs; an X.509-SVID carries exactly one URI SAN, its SPIFFE ID:"
                    + " reissue it with only that one", null);
        }
        try {
            return Optional.of(parse(spiffe.get(0)));
        } catch (InvalidServiceIdentityException e) {
            throw new CertificateIdentityException(Reason.INVALID_SPIFFE_ID, "its URI SAN is not a valid SPIFFE ID ("
                    + e.getMessage() + "): reissue it with a valid one, e.g. spiffe://example.org/api", e);
        }
    }

    /** The service name: the last segment of the path ({@code api} for {@code spiffe://example.org/ns/api}). */
    public String serviceName() {
        return path.substring(path.lastIndexOf('/') + 1);
    }

    /** The identity as a URI, ready for a certificate's subject alternative name. */
    public URI toUri() {
        return URI.create(toString());
    }

    /** The SPIFFE ID text, e.g. {@code spiffe://example.org/api}. */
    @Override
    public String toString() {
        return PREFIX + trustDomain.name() + "/" + path;
    }

    /** Which rule the path breaks, if any. */
    private static Optional<String> pathProblem(String path) {
        if (path.isEmpty()) {
            return Optional.of("it needs a non-empty path, e.g. spiffe://example.org/api");
        }
        for (String segment : path.split("/", -1)) {
            if (segment.isEmpty()) {
                return Optional.of("the path has an empty segment ('//' or a trailing '/')");
            }
            if (segment.equals(".") || segment.equals("..")) {
                return Optional.of("the path may not hold '.' or '..' segments");
            }
            for (int i = 0; i < segment.length(); i++) {
                char c = segment.charAt(i);
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                        || c == '.' || c == '-' || c == '_')) {
                    return Optional.of("path segments may hold only letters, digits, '.', '-' and '_' (no query,"
                            + " fragment or percent-encoding); found '" + printable(c) + "'");
                }
            }
        }
        return Optional.empty();
    }

    private static String printable(char c) {
        return LogSafe.character(c);
    }
}
