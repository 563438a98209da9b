package io.settler.zerotrust.credentials;

import io.settler.zerotrust.credentials.CredentialException.Reason;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The CA certificates a service trusts to issue its peers' certificates: its trust anchors.
 *
 * <pre>{@code
 * TrustBundle trust = TrustBundle.fromPem(Path.of("ca.crt"));
 * }</pre>
 *
 * <p>At load, duplicates are dropped (first occurrence kept) and each anchor is checked:
 * <ul>
 *   <li>an empty bundle is refused ({@link CredentialException.Reason#NO_CERTIFICATE});</li>
 *   <li>a v3 certificate that is not a CA ({@code basicConstraints cA=true}) is refused
 *       ({@link CredentialException.Reason#ANCHOR_NOT_CA}): it is almost always a leaf put in the
 *       wrong file, and trusting a leaf as an anchor is certificate pinning by accident;</li>
 *   <li>an anchor expired at the loader's clock is refused ({@link CredentialException.Reason#EXPIRED}):
 *       the JDK's PKIX validation does not check an anchor's dates, so an expired root would stay
 *       trusted; remove it from the bundle;</li>
 *   <li>an anchor that is not self-signed (an intermediate), or not valid yet (a new root staged
 *       before its start), is accepted with a WARN log naming its subject and fingerprint;</li>
 *   <li>a PEM file that also holds a private key is refused
 *       ({@link CredentialException.Reason#UNEXPECTED_PRIVATE_KEY}): the CA's key must never travel
 *       with its certificate.</li>
 * </ul>
 *
 * <p>Instances are immutable and thread-safe; two bundles are equal when they hold the same anchors,
 * in any order.
 */
public final class TrustBundle {

    private static final Logger LOG = LoggerFactory.getLogger(TrustBundle.class);
    private static final Loader DEFAULT = new Loader(Clock.systemUTC());

    private final List<X509Certificate> anchors;
    private final List<String> fingerprints;

    private TrustBundle(List<X509Certificate> anchors, List<String> fingerprints) {
        this.anchors = List.copyOf(anchors);
        this.fingerprints = List.copyOf(fingerprints);
    }

    /**
     * Loads the CA certificates of a PEM file (text around the blocks is ignored).
     *
     * @param pemFile one or more {@code CERTIFICATE} blocks
     * @return the checked bundle
     * @throws CredentialException if the file cannot be read or parsed, holds no certificate or a
     *     private key, or an anchor is refused
     */
    public static TrustBundle fromPem(Path pemFile) {
        return DEFAULT.fromPem(pemFile);
    }

    /**
     * A bundle of certificates already in memory, checked like a loaded one.
     *
     * @param anchors the CA certificates
     * @return the checked bundle
     * @throws CredentialException if there is no certificate or an anchor is refused
     */
    public static TrustBundle of(Collection<X509Certificate> anchors) {
        return DEFAULT.of(anchors);
    }

    /** A loader with the system clock, to set another before loading. */
    public static Loader loader() {
        return DEFAULT;
    }

    /** The trust anchors, without duplicates, in the order first seen; unmodifiable. */
    public List<X509Certificate> anchors() {
        return anchors;
    }

    /**
     * The anchors' SHA-256 fingerprints (lower-case hex, no separators), in the order of
     * {@link #anchors()}; unmodifiable.
     */
    public List<String> fingerprints() {
        return fingerprints;
    }

    /**
     * Whether {@code certificate} is one of the anchors (same DER encoding).
     *
     * @param certificate the certificate to look for
     * @return true if the bundle holds it
     */
    public boolean contains(X509Certificate certificate) {
        return fingerprints.contains(Certificates.fingerprint(Objects.requireNonNull(certificate, "certificate")));
    }

    /** Equal when both hold the same anchors, in any order. */
    @Override
    public boolean equals(Object other) {
        return other instanceof TrustBundle bundle && Set.copyOf(fingerprints).equals(Set.copyOf(bundle.fingerprints));
    }

    @Override
    public int hashCode() {
        return Set.copyOf(fingerprints).hashCode();
    }

    /** The anchors' subjects and fingerprints. */
    @Override
    public String toString() {
        List<String> parts = new ArrayList<>();
        for (int i = 0; i < anchors.size(); i++) {
            parts.add("'" + Certificates.subject(anchors.get(i)) + "' " + fingerprints.get(i));
        }
        return "TrustBundle[" + String.join(", ", parts) + "]";
    }

    /**
     * Loads {@link TrustBundle}s with a chosen clock, against which anchors' expiry is checked.
     * Immutable.
     */
    public static final class Loader {

        private final Clock clock;

        private Loader(Clock clock) {
            this.clock = clock;
        }

        /**
         * The clock anchors' validity is checked against (default the system clock).
         *
         * @param clock the clock
         * @return a loader with this clock
         */
        public Loader clock(Clock clock) {
            return new Loader(Objects.requireNonNull(clock, "clock"));
        }

        /**
         * Loads the CA certificates of a PEM file.
         *
         * @param pemFile one or more {@code CERTIFICATE} blocks
         * @return the checked bundle
         * @throws CredentialException if the file cannot be read or parsed, holds no certificate or a
         *     private key, or an anchor is refused
         */
        public TrustBundle fromPem(Path pemFile) {
            Objects.requireNonNull(pemFile, "pemFile");
            PemFile pem = PemFile.read(pemFile);
            if (!pem.keys().isEmpty()) {
                pem.wipeKeys();
                throw new CredentialException(Reason.UNEXPECTED_PRIVATE_KEY, pemFile + " is meant to hold trusted CA"
                        + " certificates but also holds a private key (found " + pem.contents() + "): remove the"
                        + " key from the file, and treat it as exposed if the file was shared");
            }
            if (pem.certificates().isEmpty()) {
                throw new CredentialException(Reason.NO_CERTIFICATE, pemFile + " holds no certificate (found "
                        + pem.contents() + "): pass a PEM file of CA certificates ('CERTIFICATE' blocks)");
            }
            return build(pem.certificates(), pemFile.toString());
        }

        /**
         * A bundle of certificates in memory, checked like a loaded one.
         *
         * @param anchors the CA certificates
         * @return the checked bundle
         * @throws CredentialException if there is no certificate or an anchor is refused
         */
        public TrustBundle of(Collection<X509Certificate> anchors) {
            Objects.requireNonNull(anchors, "anchors");
            anchors.forEach(anchor -> Objects.requireNonNull(anchor, "anchors holds a null certificate"));
            if (anchors.isEmpty()) {
                throw new CredentialException(Reason.NO_CERTIFICATE,
                        "the given trust bundle is empty: pass at least one CA certificate");
            }
            return build(List.copyOf(anchors), "the given trust bundle");
        }

        private TrustBundle build(List<X509Certificate> certificates, String source) {
            Instant now = clock.instant();
            Map<String, X509Certificate> unique = new LinkedHashMap<>();
            for (X509Certificate certificate : certificates) {
                unique.putIfAbsent(Certificates.fingerprint(certificate), certificate);
            }
            unique.forEach((fingerprint, anchor) -> check(anchor, fingerprint, source, now));
            return new TrustBundle(new ArrayList<>(unique.values()), new ArrayList<>(unique.keySet()));
        }

        private static void check(X509Certificate anchor, String fingerprint, String source, Instant now) {
            String phrase = "the trust anchor '" + Certificates.subject(anchor) + "' (SHA-256 " + fingerprint
                    + ") in " + source;
            if (anchor.getVersion() >= 3 && !Certificates.isCa(anchor)) {
                throw new CredentialException(Reason.ANCHOR_NOT_CA, phrase + " is not a CA certificate (no"
                        + " basicConstraints cA=true): a trust bundle holds the CA that issues peers' certificates,"
                        + " not a peer's own certificate; put the issuing CA's certificate there instead");
            }
            if (now.isAfter(anchor.getNotAfter().toInstant())) {
                throw new CredentialException(Reason.EXPIRED, phrase + " expired at "
                        + anchor.getNotAfter().toInstant() + " (now " + now + "): remove it from the bundle (and"
                        + " add its successor if it has one)");
            }
            if (now.isBefore(anchor.getNotBefore().toInstant())) {
                LOG.warn("event=trust_anchor_not_yet_valid source=\"{}\" subject=\"{}\" fingerprint={} not_before={}",
                        source, Certificates.subject(anchor), fingerprint, anchor.getNotBefore().toInstant());
            }
            if (!Certificates.isSelfSigned(anchor)) {
                LOG.warn("event=trust_anchor_not_self_signed source=\"{}\" subject=\"{}\" issuer=\"{}\""
                                + " fingerprint={} hint=\"an intermediate as anchor works, but trust normally"
                                + " starts at the root\"",
                        source, Certificates.subject(anchor), Certificates.issuer(anchor), fingerprint);
            }
        }

        /** The clock. */
        @Override
        public String toString() {
            return "TrustBundle.Loader[clock=" + clock + "]";
        }
    }
}
