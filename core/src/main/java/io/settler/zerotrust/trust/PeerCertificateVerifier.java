package io.settler.zerotrust.trust;

import io.settler.zerotrust.credentials.CertificateFingerprint;
import io.settler.zerotrust.identity.CertificateIdentityException;
import io.settler.zerotrust.identity.ServiceIdentity;
import io.settler.zerotrust.trust.CertificateRules.Purpose;
import io.settler.zerotrust.trust.CertificateRules.Role;
import io.settler.zerotrust.trust.PeerVerificationException.Reason;
import java.security.cert.CertificateEncodingException;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import javax.security.auth.x500.X500Principal;

/**
 * Verifies a TLS peer's certificate chain outside a handshake, so the same rules serve every
 * transport and can be tested directly against certificate corpora.
 *
 * <pre>{@code
 * PeerCertificateVerifier verifier = PeerCertificateVerifier.builder()
 *         .trustAnchors(bundle)              // the trust bundle's anchors
 *         .build();                          // clock: system UTC
 * VerifiedPeer server = verifier.verifyServer(chain, PeerName.parse("spiffe://example.org/api"));
 * VerifiedPeer client = verifier.verifyClient(chain);
 * }</pre>
 *
 * <p>Verification is: build a path from the peer's certificate through the presented
 * intermediates (in any order; alternative paths are tried) to a trust anchor; check every
 * certificate in it, anchors included, at the clock's time (truncated to whole seconds); run the
 * JDK's PKIX validation (RFC 5280: signatures, path length, key usage, policies, name constraints;
 * revocation is not checked); then match the expected name. On top of the JDK this verifier
 * refuses:
 * <ul>
 *   <li>weak signatures (MD5, SHA-1, SHA-224, DSA) anywhere but on an anchor's self-signature, and
 *       weak keys anywhere, anchors included: RSA under 2048 bits, DSA, EC curves other than P-256,
 *       P-384 and P-521 (explicit curve parameters included);</li>
 *   <li>an end-entity certificate that is a CA, has keyCertSign, has a key usage without
 *       digitalSignature, or lacks the extended key usage for its role ({@code serverAuth} for a
 *       server, {@code clientAuth} for a client; {@code anyExtendedKeyUsage} alone is not enough);</li>
 *   <li>a CA (intermediate or anchor) without a critical {@code basicConstraints cA=true}, with a key
 *       usage lacking keyCertSign, without a subject key identifier, or whose extended key usage
 *       excludes the purpose; expired or not yet valid anchors; path length constraints of anchors;</li>
 *   <li>DNS and IP names outside the name constraints of any CA above them, anchors included, with
 *       wildcard names checked against every name they could match; invalid name constraints;</li>
 *   <li>malformed certificates: duplicate extensions, non-v3, bad serial numbers, mismatched
 *       signature algorithms, missing or malformed authority key identifiers, unknown critical
 *       extensions.</li>
 * </ul>
 * Host names match DNS subject alternative names only, following RFC 6125: never the subject
 * common name; a wildcard only as the entire left-most label of a name of three or more labels,
 * matching exactly one label; never a wildcard for an IP address.
 *
 * <p>The peer has proved nothing yet when its chain is verified, so the work it can cause is
 * bounded ({@link PeerVerificationException.Reason#PATH_SEARCH_LIMIT} beyond): more than 40
 * certificates or 64 KiB are refused before any is parsed; a signature is only ever checked with
 * the key of a trust anchor or of a certificate an anchor certified, never with a key the peer
 * chose; at most 4 issuers are checked per certificate and 4 certificates per issuer; and every
 * signature check, the JDK validator's included, counts against a per-verification budget.
 * Refusal messages escape every name the peer chose, so they cannot forge log lines.
 *
 * <p>Instances are immutable and thread-safe.
 */
public final class PeerCertificateVerifier {

    /**
     * Most certificates a peer may present, refused before any is parsed: a chain is a handful;
     * the largest path-building tests (BetterTLS, cross-signed CAs in every direction) present 36.
     */
    static final int MAX_PRESENTED = 40;
    /** Most bytes of DER a peer may present, all certificates together (BoringSSL's own limit is 100 KiB). */
    static final int MAX_PRESENTED_BYTES = 64 * 1024;
    static final int DEFAULT_MAX_INTERMEDIATES = 8;

    private final Map<X500Principal, List<PathSearch.Anchor>> anchors;
    private final Clock clock;
    private final int maxIntermediates;

    private PeerCertificateVerifier(Builder builder) {
        this.clock = builder.clock;
        this.maxIntermediates = builder.maxIntermediates;
        Map<X500Principal, List<PathSearch.Anchor>> byName = new LinkedHashMap<>();
        for (X509Certificate certificate : builder.anchors) {
            CertificateView view = CertificateView.of(certificate);
            // The JDK's validator refuses trust anchors with name constraints, so they are given
            // without; this verifier checks the anchor's DNS and IP constraints itself.
            TrustAnchor trustAnchor = new TrustAnchor(certificate, null);
            byName.computeIfAbsent(view.subject, k -> new ArrayList<>())
                    .add(new PathSearch.Anchor(view, trustAnchor));
        }
        byName.replaceAll((name, list) -> List.copyOf(list));
        this.anchors = Map.copyOf(byName);
    }

    /** Starts a verifier; {@link Builder#trustAnchors(Collection)} is required. */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Verifies a server's chain as its client: the path to a trust anchor, {@code serverAuth}, and
     * the expected name.
     *
     * @param presented the server's certificate first, then any intermediates in any order
     * @param expected the host name, IP address or SPIFFE identity the client meant to reach
     * @return the verified peer
     * @throws PeerVerificationException if the chain is refused; {@link PeerVerificationException#reason()} says why
     */
    public VerifiedPeer verifyServer(List<X509Certificate> presented, PeerName expected)
            throws PeerVerificationException {
        Objects.requireNonNull(expected, "expected");
        return verify(presented, Purpose.SERVER, Optional.of(expected), newBudget());
    }

    /**
     * Verifies a client's chain as its server: the path to a trust anchor and {@code clientAuth}.
     * Who the client is, and what it may do, is for the authorizer to decide from the result.
     *
     * @param presented the client's certificate first, then any intermediates in any order
     * @return the verified peer, with its SPIFFE identity if its certificate carries one
     * @throws PeerVerificationException if the chain is refused; {@link PeerVerificationException#reason()} says why
     */
    public VerifiedPeer verifyClient(List<X509Certificate> presented) throws PeerVerificationException {
        return verifyClient(presented, newBudget());
    }

    /** {@link #verifyClient(List)} charging its signature checks to {@code budget}, for tests. */
    VerifiedPeer verifyClient(List<X509Certificate> presented, PathSearch.Budget budget)
            throws PeerVerificationException {
        return verify(presented, Purpose.CLIENT, Optional.empty(), budget);
    }

    /** A fresh signature-check budget for one verification. */
    PathSearch.Budget newBudget() {
        return PathSearch.Budget.forPathsUpTo(maxIntermediates, MAX_PRESENTED);
    }


    private VerifiedPeer verify(List<X509Certificate> presented, Purpose purpose, Optional<PeerName> expected,
                                PathSearch.Budget budget) throws PeerVerificationException {
        Objects.requireNonNull(presented, "presented");
        if (presented.isEmpty()) {
            throw new PeerVerificationException(Reason.UNTRUSTED_ISSUER, "the peer presented no certificate");
        }
        // Before any parsing or signature check: a chain longer or larger than any allowed path.
        if (presented.size() > MAX_PRESENTED) {
            throw new PeerVerificationException(Reason.PATH_SEARCH_LIMIT, "the peer presented " + presented.size()
                    + " certificates; at most " + MAX_PRESENTED + " are accepted; the peer should send only its own"
                    + " chain");
        }
        long bytes = 0;
        for (X509Certificate certificate : presented) {
            bytes += encodedLength(Objects.requireNonNull(certificate, "certificate"));
        }
        if (bytes > MAX_PRESENTED_BYTES) {
            throw new PeerVerificationException(Reason.PATH_SEARCH_LIMIT, "the peer presented " + bytes
                    + " bytes of certificates; at most " + MAX_PRESENTED_BYTES + " are accepted");
        }
        Instant now = clock.instant().truncatedTo(ChronoUnit.SECONDS);
        CertificateView leaf = CertificateView.of(Objects.requireNonNull(presented.get(0), "certificate"));
        CertificateRules.checkProfile(leaf, Role.END_ENTITY);
        CertificateRules.checkEndEntity(leaf, purpose);
        CertificateRules.checkValidity(leaf, Role.END_ENTITY, now);
        Optional<ServiceIdentity> identity = identityOf(leaf);

        Set<X509Certificate> others = new LinkedHashSet<>();
        for (X509Certificate certificate : presented.subList(1, presented.size())) {
            if (!Objects.requireNonNull(certificate, "certificate").equals(leaf.certificate)) {
                others.add(certificate);
            }
        }
        List<CertificateView> intermediates = new ArrayList<>();
        others.forEach(c -> intermediates.add(CertificateView.of(c)));
        List<X509Certificate> path = new PathSearch(anchors, intermediates, now, purpose, maxIntermediates, budget)
                .find(leaf);

        if (expected.isPresent()) {
            requireName(leaf, identity, expected.get());
        }
        return new VerifiedPeer(leaf.certificate, path, identity, fingerprint(leaf.certificate));
    }

    /** The SPIFFE ID by {@link ServiceIdentity#fromCertificate}, the one rule for every certificate. */
    private static Optional<ServiceIdentity> identityOf(CertificateView leaf) throws PeerVerificationException {
        try {
            return ServiceIdentity.fromCertificate(leaf.certificate);
        } catch (CertificateIdentityException e) {
            throw new PeerVerificationException(Reason.MALFORMED, Role.END_ENTITY.describe(leaf) + " is refused: "
                    + e.getMessage(), e);
        }
    }

    private static void requireName(CertificateView leaf, Optional<ServiceIdentity> identity, PeerName expected)
            throws PeerVerificationException {
        String who = Role.END_ENTITY.describe(leaf);
        if (expected instanceof PeerName.Identity id) {
            if (identity.isEmpty() || !identity.get().equals(id.identity())) {
                throw new PeerVerificationException(Reason.NAME_MISMATCH, who + " identifies "
                        + identity.map(ServiceIdentity::toString).orElse("no SPIFFE service") + ", not "
                        + id.identity() + "; the server presented another service's certificate");
            }
        } else if (expected instanceof PeerName.Dns dns) {
            boolean match = leaf.dnsNames.stream()
                    .map(DnsNames::canonicalPresentedName)
                    .flatMap(Optional::stream)
                    .anyMatch(p -> DnsNames.matches(p, dns.name()));
            if (!match) {
                throw new PeerVerificationException(Reason.NAME_MISMATCH, who + " does not name host '"
                        + dns.name() + "': its DNS names are " + printable(leaf.dnsNames)
                        + " (the subject common name is never used); re-issue it with a DNS SAN for that host");
            }
        } else if (expected instanceof PeerName.Ip ip) {
            if (leaf.ipAddresses.stream().noneMatch(ip::matches)) {
                throw new PeerVerificationException(Reason.NAME_MISMATCH, who + " does not name address "
                        + ip + " in an IP address SAN (DNS names and the common name do not count);"
                        + " re-issue it with an IP SAN for that address");
            }
        }
    }

    private static List<String> printable(List<String> names) {
        return names.stream().map(DnsNames::printable).map(n -> n.toLowerCase(Locale.ROOT)).toList();
    }

    private static int encodedLength(X509Certificate certificate) throws PeerVerificationException {
        try {
            return certificate.getEncoded().length;
        } catch (CertificateEncodingException e) {
            throw new PeerVerificationException(Reason.MALFORMED, "a presented certificate cannot be encoded", e);
        }
    }

    private static String fingerprint(X509Certificate certificate) throws PeerVerificationException {
        try {
            return CertificateFingerprint.sha256(certificate);
        } catch (IllegalArgumentException e) {
            throw new PeerVerificationException(Reason.MALFORMED, "the peer's certificate cannot be encoded", e);
        }
    }

    /** Configures a {@link PeerCertificateVerifier}. Not thread-safe. */
    public static final class Builder {
        private final List<X509Certificate> anchors = new ArrayList<>();
        private Clock clock = Clock.systemUTC();
        private int maxIntermediates = DEFAULT_MAX_INTERMEDIATES;

        private Builder() {
        }

        /**
         * The trust anchors: the CA certificates of the trust bundle. Each is used with its key,
         * name, validity, basic constraints, key usage, extended key usage and name constraints.
         * Replaces any anchors given before.
         *
         * @param trustAnchors one or more CA certificates
         * @return this builder
         */
        public Builder trustAnchors(Collection<X509Certificate> trustAnchors) {
            Objects.requireNonNull(trustAnchors, "trustAnchors");
            anchors.clear();
            for (X509Certificate anchor : trustAnchors) {
                X509Certificate certificate = Objects.requireNonNull(anchor, "trust anchor");
                if (!anchors.contains(certificate)) {
                    anchors.add(certificate);
                }
            }
            return this;
        }

        /**
         * The clock that gives the verification time (default: the system clock, UTC). The time is
         * truncated to whole seconds, the resolution of certificate validity.
         *
         * @param clock the clock
         * @return this builder
         */
        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /**
         * The most intermediate CAs a path may hold, not counting self-issued ones (key rollover
         * certificates); default 8, at most 16.
         *
         * @param maxIntermediates 0 (leaves issued directly by an anchor) to 16
         * @return this builder
         */
        public Builder maxIntermediates(int maxIntermediates) {
            if (maxIntermediates < 0 || maxIntermediates > PathSearch.HARD_MAX_INTERMEDIATES) {
                throw new IllegalArgumentException("maxIntermediates must be between 0 and "
                        + PathSearch.HARD_MAX_INTERMEDIATES + "; got " + maxIntermediates);
            }
            this.maxIntermediates = maxIntermediates;
            return this;
        }

        /**
         * Builds the verifier.
         *
         * @return the verifier
         * @throws IllegalStateException if no trust anchor was given
         */
        public PeerCertificateVerifier build() {
            if (anchors.isEmpty()) {
                throw new IllegalStateException("a verifier needs at least one trust anchor; call trustAnchors(...)");
            }
            return new PeerCertificateVerifier(this);
        }
    }
}
