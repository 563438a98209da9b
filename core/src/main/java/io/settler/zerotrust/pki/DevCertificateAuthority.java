package io.settler.zerotrust.pki;

import io.settler.zerotrust.identity.ServiceIdentity;
import io.settler.zerotrust.identity.TrustDomain;
import io.settler.zerotrust.network.IpAddressLiteral;
import io.settler.zerotrust.time.Durations;
import java.io.IOException;
import java.io.InputStream;
import java.math.BigInteger;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Date;
import java.util.EnumSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x500.style.IETFUtils;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.jspecify.annotations.Nullable;

/**
 * A certificate authority for development and tests: a root (and optionally an intermediate) that
 * issues short-lived leaf certificates for service identities.
 *
 * <pre>{@code
 * DevCertificateAuthority ca = DevCertificateAuthority.create("example.org");
 * IssuedCertificate api = ca.leaf("api").serverAndClient().dnsNames("localhost").issue();
 * PemFiles files = api.writePem(dir, "api");
 * }</pre>
 *
 * <p>Each leaf carries the URI SAN {@code spiffe://<trust-domain>/<service>}, the same SPIFFE ID as
 * its subject CN (PostgreSQL's {@code cert} authentication sees only the CN, and maps the whole ID,
 * never a part of it, to a role; an ID longer than the 64 characters a CN may hold gets an empty
 * subject and a critical SAN, as RFC 5280 asks), {@code BasicConstraints cA=false}, a
 * {@code digitalSignature} key usage
 * (plus {@code keyEncipherment} for RSA) and the extended key usage its {@link CertificateUsage}
 * asks for. Leaves can also be issued with a {@link CertificateDefect} on purpose, so that tests
 * can prove each kind of bad certificate is refused.
 *
 * <p>The keys live in memory, never meant for production: the root's subject says "development
 * only". A CA that must outlive the process (a command-line tool's) is written with {@link #writeTo}
 * and read back with {@link #load}; its key files are readable by their owner only. Instances are
 * immutable and thread-safe.
 */
public final class DevCertificateAuthority {

    private static final Duration DEFAULT_CA_VALIDITY = Duration.ofDays(30);
    private static final Duration DEFAULT_LEAF_VALIDITY = Duration.ofHours(24);
    /** Certificates start slightly in the past so peers with a clock a little behind accept them. */
    private static final Duration BACKDATE = Duration.ofMinutes(5);
    private static final Duration DEFECT_OFFSET = Duration.ofDays(1);
    /** Longest validity asked for: a century, far from the end of {@link Instant}'s range. */
    private static final Duration MAX_VALIDITY = Duration.ofDays(36_500);
    private static final String ORGANIZATION = "Settler Zero Trust (development only)";
    /** RFC 5280 {@code ub-common-name}: a CN holds at most 64 characters. */
    private static final int MAX_COMMON_NAME_LENGTH = 64;
    private static final String ROOT_NAME = "Settler Dev Root CA ";
    /** The files of {@link #writeTo}: the root, and the intermediate when the CA has one. */
    private static final String ROOT_FILE = "ca";
    private static final String INTERMEDIATE_FILE = "intermediate";

    private final TrustDomain trustDomain;
    private final KeyAlgorithm keyAlgorithm;
    private final Clock clock;
    private final SecureRandom random;
    private final Issuer root;
    private final Optional<Issuer> intermediate;

    private DevCertificateAuthority(Builder builder) {
        this.trustDomain = builder.trustDomain;
        this.keyAlgorithm = builder.keyAlgorithm;
        this.clock = builder.clock;
        this.random = new SecureRandom();
        Instant notBefore = clock.instant().minus(BACKDATE);
        Instant notAfter = end(clock.instant(), builder.validity);
        this.root = selfSignedRoot(rootName(), notBefore, notAfter, builder.withIntermediate ? 1 : 0);
        this.intermediate = builder.withIntermediate
                ? Optional.of(subordinate(root, name("Settler Dev Intermediate CA " + trustDomain),
                        notBefore, notAfter))
                : Optional.empty();
    }

    private DevCertificateAuthority(TrustDomain trustDomain, KeyAlgorithm keyAlgorithm, Issuer root,
                                    Optional<Issuer> intermediate) {
        this.trustDomain = trustDomain;
        this.keyAlgorithm = keyAlgorithm;
        this.clock = Clock.systemUTC();
        this.random = new SecureRandom();
        this.root = root;
        this.intermediate = intermediate;
    }

    /**
     * A root-only CA for {@code trustDomain} with an EC P-256 key, valid for 30 days.
     *
     * @param trustDomain the SPIFFE trust domain its leaves belong to
     * @return the CA
     */
    public static DevCertificateAuthority create(TrustDomain trustDomain) {
        return builder(trustDomain).build();
    }

    /**
     * A root-only CA for a trust domain given as text, e.g. read from configuration; see
     * {@link #create(TrustDomain)}.
     *
     * @param trustDomain the SPIFFE trust domain its leaves belong to, e.g. {@code example.org}
     * @return the CA
     * @throws io.settler.zerotrust.identity.InvalidServiceIdentityException if it is not a SPIFFE
     *     trust domain
     */
    public static DevCertificateAuthority create(String trustDomain) {
        return builder(trustDomain).build();
    }

    /**
     * A builder for a CA with an intermediate, another key type, validity or clock.
     *
     * @param trustDomain the SPIFFE trust domain its leaves belong to
     * @return the builder
     */
    public static Builder builder(TrustDomain trustDomain) {
        return new Builder(Objects.requireNonNull(trustDomain, "trustDomain"));
    }

    /**
     * A builder for a CA whose trust domain is given as text, e.g. read from configuration; see
     * {@link #builder(TrustDomain)}.
     *
     * @param trustDomain the SPIFFE trust domain its leaves belong to, e.g. {@code example.org}
     * @return the builder
     * @throws io.settler.zerotrust.identity.InvalidServiceIdentityException if it is not a SPIFFE
     *     trust domain
     */
    public static Builder builder(String trustDomain) {
        return builder(TrustDomain.of(trustDomain));
    }

    /** The trust domain of every identity this CA issues. */
    public TrustDomain trustDomain() {
        return trustDomain;
    }

    /** The root certificate: the trust anchor peers should hold. */
    public X509Certificate rootCertificate() {
        return root.certificate();
    }

    /** The intermediate that signs the leaves, when the CA was built with one. */
    public Optional<X509Certificate> intermediateCertificate() {
        return intermediate.map(Issuer::certificate);
    }

    /** The root certificate as PEM, ready to be a trust bundle. */
    public String caBundlePem() {
        return Pem.certificates(List.of(root.certificate()));
    }

    /**
     * Writes the root certificate as a PEM trust bundle.
     *
     * @param file where to write it; replaced if present
     * @return the absolute path written
     */
    public Path writeCaBundle(Path file) {
        return Pem.writePublic(file, caBundlePem());
    }

    /**
     * Writes this CA into {@code directory} so that {@link #load} can issue with it later:
     * {@code ca.crt} (the root, the trust bundle peers hold) and {@code ca.key} (its PKCS#8 key,
     * mode 0600), and with an intermediate also {@code intermediate.crt} and {@code intermediate.key}
     * (0600). Files of those names are replaced atomically.
     *
     * @param directory where to write; created if missing
     * @return the root certificate file, {@code ca.crt}
     */
    public Path writeTo(Path directory) {
        Objects.requireNonNull(directory, "directory");
        intermediate.ifPresent(issuer -> writeIssuer(directory, INTERMEDIATE_FILE, issuer));
        return writeIssuer(directory, ROOT_FILE, root);
    }

    private static Path writeIssuer(Path directory, String name, Issuer issuer) {
        Pem.writeSecret(directory.resolve(name + ".key"), Pem.privateKey(issuer.keys().getPrivate()));
        return Pem.writePublic(directory.resolve(name + ".crt"), Pem.certificates(List.of(issuer.certificate())));
    }

    /**
     * Reads a CA {@link #writeTo} wrote, to issue more leaves under the same root; it dates them
     * with the system clock.
     *
     * @param directory the directory {@link #writeTo} wrote into
     * @return the CA, with its intermediate if {@code intermediate.crt} is there
     * @throws IllegalArgumentException if a file is missing or unreadable, is not what {@link #writeTo}
     *     writes, or a key does not belong to its certificate; the message names the file
     */
    public static DevCertificateAuthority load(Path directory) {
        Objects.requireNonNull(directory, "directory");
        Issuer root = readIssuer(directory, ROOT_FILE);
        String rootName = root.certificate().getSubjectX500Principal().getName();
        TrustDomain trustDomain = commonName(root.certificate())
                .filter(cn -> cn.startsWith(ROOT_NAME))
                .map(cn -> TrustDomain.of(cn.substring(ROOT_NAME.length())))
                .orElseThrow(() -> new IllegalArgumentException(directory.resolve(ROOT_FILE + ".crt") + " ("
                        + rootName + ") is not the root of a development CA; name the directory written by"
                        + " DevCertificateAuthority.writeTo"));
        Optional<Issuer> intermediate = Files.exists(directory.resolve(INTERMEDIATE_FILE + ".crt"))
                ? Optional.of(readIssuer(directory, INTERMEDIATE_FILE))
                : Optional.empty();
        if (intermediate.isPresent() && !signedBy(intermediate.get().certificate(), root.certificate())) {
            throw new IllegalArgumentException(directory.resolve(INTERMEDIATE_FILE + ".crt") + " is not signed by "
                    + directory.resolve(ROOT_FILE + ".crt") + "; keep the files DevCertificateAuthority.writeTo wrote"
                    + " together (delete a stale intermediate.crt and intermediate.key)");
        }
        return new DevCertificateAuthority(trustDomain, root.algorithm(), root, intermediate);
    }

    private static Optional<String> commonName(X509Certificate certificate) {
        X500Name name = X500Name.getInstance(certificate.getSubjectX500Principal().getEncoded());
        return Arrays.stream(name.getRDNs(BCStyle.CN))
                .map(rdn -> IETFUtils.valueToString(rdn.getFirst().getValue()))
                .findFirst();
    }

    private static Issuer readIssuer(Path directory, String name) {
        Path certificateFile = directory.resolve(name + ".crt");
        Path keyFile = directory.resolve(name + ".key");
        X509Certificate certificate;
        try (InputStream in = Files.newInputStream(certificateFile)) {
            certificate = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
        } catch (IOException | GeneralSecurityException | ClassCastException e) {
            throw new IllegalArgumentException("cannot read the CA certificate " + certificateFile + " (" + e
                    + "); name the directory written by DevCertificateAuthority.writeTo", e);
        }
        PrivateKey key;
        try (PEMParser parser = new PEMParser(Files.newBufferedReader(keyFile, StandardCharsets.US_ASCII))) {
            Object object = parser.readObject();
            if (!(object instanceof PrivateKeyInfo info)) {
                throw new IllegalArgumentException(keyFile + " holds no PKCS#8 private key; name the directory"
                        + " written by DevCertificateAuthority.writeTo");
            }
            key = new JcaPEMKeyConverter().getPrivateKey(info);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read the CA key " + keyFile + " (" + e
                    + "); name the directory written by DevCertificateAuthority.writeTo", e);
        }
        KeyAlgorithm algorithm = KeyAlgorithm.of(certificate.getPublicKey());
        KeyPair keys = new KeyPair(certificate.getPublicKey(), key);
        if (!matches(keys, algorithm)) {
            throw new IllegalArgumentException(keyFile + " is not the key of " + certificateFile
                    + "; keep the files DevCertificateAuthority.writeTo wrote together");
        }
        return new Issuer(certificate, keys, algorithm);
    }

    private static boolean signedBy(X509Certificate certificate, X509Certificate issuer) {
        try {
            certificate.verify(issuer.getPublicKey());
            return true;
        } catch (GeneralSecurityException e) {
            return false;
        }
    }

    /** Whether the private key signs what the public key verifies. */
    private static boolean matches(KeyPair keys, KeyAlgorithm algorithm) {
        try {
            byte[] probe = "development CA key check".getBytes(StandardCharsets.US_ASCII);
            Signature signer = Signature.getInstance(algorithm.signatureAlgorithm());
            signer.initSign(keys.getPrivate());
            signer.update(probe);
            byte[] signature = signer.sign();
            Signature verifier = Signature.getInstance(algorithm.signatureAlgorithm());
            verifier.initVerify(keys.getPublic());
            verifier.update(probe);
            return verifier.verify(signature);
        } catch (GeneralSecurityException e) {
            return false;
        }
    }

    /**
     * Starts a leaf certificate for {@code spiffe://<trust-domain>/<service>}.
     *
     * @param service the SPIFFE path, e.g. {@code api} or {@code ns/prod/api}
     * @return a request to refine and {@link LeafRequest#issue() issue}
     * @throws io.settler.zerotrust.identity.InvalidServiceIdentityException if the service breaks
     *     the SPIFFE path rules
     */
    public LeafRequest leaf(String service) {
        return new LeafRequest(ServiceIdentity.of(trustDomain, service));
    }

    /** The certificate that signs leaves: the intermediate if there is one, else the root. */
    private Issuer leafIssuer() {
        return intermediate.orElse(root);
    }

    private X500Name rootName() {
        return name(ROOT_NAME + trustDomain);
    }

    private static X500Name name(String commonName) {
        return new X500NameBuilder(BCStyle.INSTANCE)
                .addRDN(BCStyle.O, ORGANIZATION)
                .addRDN(BCStyle.CN, commonName)
                .build();
    }

    private Issuer selfSignedRoot(X500Name subject, Instant notBefore, Instant notAfter, int pathLength) {
        KeyPair keys = keyAlgorithm.generate();
        X509v3CertificateBuilder builder = builder(subject, subject, keys.getPublic(), notBefore, notAfter);
        addCaExtensions(builder, keys.getPublic(), null, pathLength);
        return new Issuer(sign(builder, keys, keyAlgorithm), keys, keyAlgorithm);
    }

    private Issuer subordinate(Issuer parent, X500Name subject, Instant notBefore, Instant notAfter) {
        KeyPair keys = keyAlgorithm.generate();
        X509v3CertificateBuilder builder = builder(
                X500Name.getInstance(parent.certificate().getSubjectX500Principal().getEncoded()),
                subject, keys.getPublic(), notBefore, notAfter);
        addCaExtensions(builder, keys.getPublic(), parent.certificate(), 0);
        return new Issuer(sign(builder, parent.keys(), parent.algorithm()), keys, keyAlgorithm);
    }

    private X509v3CertificateBuilder builder(X500Name issuer, X500Name subject, PublicKey key,
                                             Instant notBefore, Instant notAfter) {
        // 159 random bits: positive, unpredictable, within the 20-octet limit of RFC 5280.
        BigInteger serial = new BigInteger(159, random).setBit(0);
        return new JcaX509v3CertificateBuilder(issuer, serial, Date.from(notBefore), Date.from(notAfter), subject, key);
    }

    private static void addCaExtensions(X509v3CertificateBuilder builder, PublicKey key,
                                        @Nullable X509Certificate parent, int pathLength) {
        try {
            JcaX509ExtensionUtils utils = new JcaX509ExtensionUtils();
            builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(pathLength));
            builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
            builder.addExtension(Extension.subjectKeyIdentifier, false, utils.createSubjectKeyIdentifier(key));
            if (parent != null) {
                builder.addExtension(Extension.authorityKeyIdentifier, false,
                        utils.createAuthorityKeyIdentifier(parent.getPublicKey()));
            }
        } catch (GeneralSecurityException | CertIOException e) {
            throw new IllegalStateException("cannot build CA certificate extensions", e);
        }
    }

    private static X509Certificate sign(X509v3CertificateBuilder builder, KeyPair signer, KeyAlgorithm algorithm) {
        try {
            return new JcaX509CertificateConverter().getCertificate(
                    builder.build(new JcaContentSignerBuilder(algorithm.signatureAlgorithm())
                            .build(signer.getPrivate())));
        } catch (OperatorCreationException | GeneralSecurityException e) {
            throw new IllegalStateException("cannot sign a certificate with " + algorithm, e);
        }
    }

    /** A certificate with the key that signs under it. */
    private record Issuer(X509Certificate certificate, KeyPair keys, KeyAlgorithm algorithm) {
    }

    /** Builds a {@link DevCertificateAuthority}. */
    public static final class Builder {
        private final TrustDomain trustDomain;
        private KeyAlgorithm keyAlgorithm = KeyAlgorithm.EC_P256;
        private Duration validity = DEFAULT_CA_VALIDITY;
        private Clock clock = Clock.systemUTC();
        private boolean withIntermediate;

        private Builder(TrustDomain trustDomain) {
            this.trustDomain = trustDomain;
        }

        /**
         * Key type of the CA certificates (default EC P-256); it decides the signature algorithm of
         * everything the CA signs.
         */
        public Builder keyAlgorithm(KeyAlgorithm keyAlgorithm) {
            this.keyAlgorithm = Objects.requireNonNull(keyAlgorithm, "keyAlgorithm");
            return this;
        }

        /**
         * Lifetime of the CA certificates (default 30 days; positive, at most 100 years; rounded up to
         * whole seconds, the resolution of certificate times, from the second of issue).
         */
        public Builder validity(Duration validity) {
            this.validity = Durations.requireBetween("validity", validity, MAX_VALIDITY);
            return this;
        }

        /** The clock that dates every certificate (default the system clock, UTC). */
        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /** Signs leaves with an intermediate CA, so chains have two certificates above the root's. */
        public Builder withIntermediate() {
            this.withIntermediate = true;
            return this;
        }

        /** Generates the keys and certificates. */
        public DevCertificateAuthority build() {
            return new DevCertificateAuthority(this);
        }
    }

    /** A leaf certificate to issue; refine it, then call {@link #issue()}. Not thread-safe. */
    public final class LeafRequest {
        private final ServiceIdentity identity;
        private CertificateUsage usage = CertificateUsage.SERVER_AND_CLIENT;
        private KeyAlgorithm leafKeyAlgorithm = KeyAlgorithm.EC_P256;
        private Duration validity = DEFAULT_LEAF_VALIDITY;
        private Optional<String> commonName;
        private final List<String> dnsNames = new ArrayList<>();
        private final List<InetAddress> ipAddresses = new ArrayList<>();
        private final Set<CertificateDefect> defects = EnumSet.noneOf(CertificateDefect.class);

        private LeafRequest(ServiceIdentity identity) {
            this.identity = identity;
            String spiffeId = identity.toString();
            this.commonName = spiffeId.length() <= MAX_COMMON_NAME_LENGTH ? Optional.of(spiffeId) : Optional.empty();
        }

        /** For TLS servers only. */
        public LeafRequest server() {
            return usage(CertificateUsage.SERVER);
        }

        /** For TLS clients only. */
        public LeafRequest client() {
            return usage(CertificateUsage.CLIENT);
        }

        /** For both TLS servers and clients; the default. */
        public LeafRequest serverAndClient() {
            return usage(CertificateUsage.SERVER_AND_CLIENT);
        }

        /** What the certificate may be used for (default {@link CertificateUsage#SERVER_AND_CLIENT}). */
        public LeafRequest usage(CertificateUsage usage) {
            this.usage = Objects.requireNonNull(usage, "usage");
            return this;
        }

        /** Adds DNS subject alternative names, e.g. {@code localhost}. */
        public LeafRequest dnsNames(String... names) {
            for (String name : names) {
                if (name == null || name.isBlank() || name.chars().anyMatch(c -> c <= ' ' || c >= 0x7f)) {
                    throw new IllegalArgumentException("a DNS name must be non-empty printable ASCII; got " + name);
                }
                dnsNames.add(name);
            }
            return this;
        }

        /**
         * Adds IP subject alternative names, as literal IPv4 or IPv6 addresses (no host names, no DNS
         * look-up), e.g. {@code 127.0.0.1} or {@code ::1}.
         */
        public LeafRequest ipAddresses(String... addresses) {
            for (String address : addresses) {
                ipAddresses.add(IpAddressLiteral.parse(address));
            }
            return this;
        }

        /**
         * The subject common name (default: the SPIFFE ID, or none if it is longer than 64
         * characters). PostgreSQL maps the CN to a role, so a CN other than the SPIFFE ID is for
         * tests that prove such certificates are refused.
         */
        public LeafRequest commonName(String commonName) {
            this.commonName = Optional.of(Objects.requireNonNull(commonName, "commonName"));
            return this;
        }

        /** The leaf's key type (default EC P-256). */
        public LeafRequest keyAlgorithm(KeyAlgorithm keyAlgorithm) {
            this.leafKeyAlgorithm = Objects.requireNonNull(keyAlgorithm, "keyAlgorithm");
            return this;
        }

        /**
         * The lifetime (default 24 hours; positive, at most 100 years; rounded up to whole seconds, the
         * resolution of certificate times); it must end before the issuing CA's does.
         */
        public LeafRequest validity(Duration validity) {
            this.validity = Durations.requireBetween("validity", validity, MAX_VALIDITY);
            return this;
        }

        /** Builds deliberate flaws into the certificate, for tests that prove they are refused. */
        public LeafRequest defect(CertificateDefect... defects) {
            for (CertificateDefect defect : defects) {
                this.defects.add(Objects.requireNonNull(defect, "defect"));
            }
            return this;
        }

        /**
         * Generates a key pair and signs the certificate.
         *
         * @return the certificate, its chain and its private key
         * @throws IllegalArgumentException if the leaf would outlive the issuing CA
         */
        @SuppressWarnings("ReferenceEquality") // is the issuer the root itself (the CA holds one of each)
        public IssuedCertificate issue() {
            Issuer issuer = defects.contains(CertificateDefect.UNKNOWN_CA) ? impostorOf(leafIssuer()) : leafIssuer();
            Instant now = clock.instant();
            Instant notBefore = now.minus(BACKDATE);
            Instant notAfter = end(now, validity);
            if (defects.contains(CertificateDefect.EXPIRED)) {
                notBefore = now.minus(validity).minus(DEFECT_OFFSET);
                notAfter = now.minus(DEFECT_OFFSET);
            } else if (defects.contains(CertificateDefect.NOT_YET_VALID)) {
                notBefore = now.plus(DEFECT_OFFSET);
                notAfter = notBefore.plus(validity);
            }
            if (notAfter.isAfter(issuer.certificate().getNotAfter().toInstant())) {
                throw new IllegalArgumentException("the leaf would outlive its issuing CA (which ends "
                        + issuer.certificate().getNotAfter().toInstant() + "); ask for a shorter validity");
            }

            KeyPair keys = leafKeyAlgorithm.generate();
            X509v3CertificateBuilder builder = builder(
                    X500Name.getInstance(issuer.certificate().getSubjectX500Principal().getEncoded()),
                    subject(),
                    keys.getPublic(), notBefore, notAfter);
            addLeafExtensions(builder, keys.getPublic(), issuer.certificate());
            X509Certificate leaf = sign(builder, issuer.keys(), issuer.algorithm());

            List<X509Certificate> chain = new ArrayList<>();
            chain.add(leaf);
            if (issuer != root && !defects.contains(CertificateDefect.UNKNOWN_CA)) {
                chain.add(issuer.certificate());
            }
            return new IssuedCertificate(identity, chain, keys.getPrivate(), root.certificate());
        }

        private X500Name subject() {
            X500NameBuilder subject = new X500NameBuilder(BCStyle.INSTANCE);
            commonName.ifPresent(cn -> subject.addRDN(BCStyle.CN, cn));
            return subject.build();
        }

        private void addLeafExtensions(X509v3CertificateBuilder builder, PublicKey key, X509Certificate issuer) {
            boolean wrongSan = defects.contains(CertificateDefect.WRONG_SAN);
            List<GeneralName> names = new ArrayList<>();
            names.add(new GeneralName(GeneralName.uniformResourceIdentifier, wrongSan
                    ? ServiceIdentity.of(trustDomain, "impostor-" + identity.serviceName()).toString()
                    : identity.toString()));
            for (String dns : dnsNames) {
                names.add(new GeneralName(GeneralName.dNSName, wrongSan ? "wrong-san.invalid" : dns));
            }
            for (InetAddress ip : ipAddresses) {
                names.add(new GeneralName(GeneralName.iPAddress, wrongSan ? "192.0.2.1" : ip.getHostAddress()));
            }
            try {
                JcaX509ExtensionUtils utils = new JcaX509ExtensionUtils();
                builder.addExtension(Extension.basicConstraints, true,
                        new BasicConstraints(defects.contains(CertificateDefect.CA_FLAG_ON_LEAF)));
                builder.addExtension(Extension.keyUsage, true, new KeyUsage(leafKeyAlgorithm.isRsa()
                        ? KeyUsage.digitalSignature | KeyUsage.keyEncipherment
                        : KeyUsage.digitalSignature));
                builder.addExtension(Extension.extendedKeyUsage, false, extendedKeyUsage());
                // RFC 5280 4.2.1.6: with an empty subject, the SAN is critical.
                builder.addExtension(Extension.subjectAlternativeName, commonName.isEmpty(),
                        new GeneralNames(names.toArray(GeneralName[]::new)));
                builder.addExtension(Extension.subjectKeyIdentifier, false, utils.createSubjectKeyIdentifier(key));
                builder.addExtension(Extension.authorityKeyIdentifier, false,
                        utils.createAuthorityKeyIdentifier(issuer.getPublicKey()));
            } catch (GeneralSecurityException | CertIOException e) {
                throw new IllegalStateException("cannot build leaf certificate extensions", e);
            }
        }

        private ExtendedKeyUsage extendedKeyUsage() {
            if (defects.contains(CertificateDefect.WRONG_EKU)) {
                return new ExtendedKeyUsage(KeyPurposeId.id_kp_codeSigning);
            }
            return switch (usage) {
                case SERVER -> new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth);
                case CLIENT -> new ExtendedKeyUsage(KeyPurposeId.id_kp_clientAuth);
                case SERVER_AND_CLIENT -> new ExtendedKeyUsage(
                        new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth});
            };
        }

        /** A throw-away CA with the same name and key type as {@code real}, but its own key. */
        private Issuer impostorOf(Issuer real) {
            X500Name subject = X500Name.getInstance(real.certificate().getSubjectX500Principal().getEncoded());
            return selfSignedRoot(subject, real.certificate().getNotBefore().toInstant(),
                    real.certificate().getNotAfter().toInstant(), 0);
        }
    }

    /**
     * When a certificate valid for {@code validity} from {@code start} ends, in the whole seconds a
     * certificate holds: {@code start} truncated (as encoded) plus the validity rounded up, so it ends
     * after {@code start} however short the validity, and never later than asked for.
     */
    private static Instant end(Instant start, Duration validity) {
        return start.truncatedTo(ChronoUnit.SECONDS).plusSeconds(Durations.toSecondsRoundedUp(validity));
    }
}
