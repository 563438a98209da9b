package io.settler.zerotrust.credentials;

import io.settler.zerotrust.credentials.ChainValidator.Origin;
import io.settler.zerotrust.credentials.CredentialException.Reason;
import io.settler.zerotrust.identity.ServiceIdentity;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a service presents in TLS: its leaf certificate, the intermediates that link it to a trust
 * anchor, and the private key of the leaf.
 *
 * <pre>{@code
 * TlsIdentity identity = TlsIdentity.fromPem(Path.of("tls.crt"), Path.of("tls.key"));
 * TlsIdentity fromStore = TlsIdentity.fromPkcs12(Path.of("api.p12"), password);
 * TlsIdentity atTime = TlsIdentity.loader().clock(clock).password(password).fromPem(Path.of("api.pem"));
 * }</pre>
 *
 * <p>PEM files may hold PKCS#8 keys (plain or encrypted, e.g. PBES2), PKCS#1 RSA keys, SEC1 EC keys
 * (with or without their curve; without it, the leaf's curve is used) and legacy OpenSSL-encrypted
 * keys ({@code Proc-Type: 4,ENCRYPTED}); RSA, EC P-256/P-384 and Ed25519; CRLF or LF; key and chain
 * in one file in either order; text around the blocks (such as openssl's "Bag Attributes") is
 * ignored.
 *
 * <p>Every way of building one checks, and refuses with a {@link CredentialException}: that the key
 * is allowed (RSA of at least 2048 bits, EC on P-256 or P-384, Ed25519) and belongs to the leaf;
 * that the chain is ordered leaf first and each certificate is issued, by name and signature, by
 * the next; that the leaf is not a CA; that the leaf is valid at the loader's clock; and that the
 * leaf carries at most one {@code spiffe://} URI SAN, a valid one. Whether the chain ends at a
 * trusted anchor is for the peer to decide, against its {@link TrustBundle}.
 *
 * <p>Instances are immutable and thread-safe. {@link #toString()} shows the identity, fingerprint
 * and expiry only.
 */
public final class TlsIdentity {

    private static final Logger LOG = LoggerFactory.getLogger(TlsIdentity.class);
    private static final Loader DEFAULT = new Loader(Clock.systemUTC(), null);

    private final List<X509Certificate> chain;
    private final PrivateKey privateKey;
    private final @Nullable ServiceIdentity identity;
    private final String fingerprint;

    private TlsIdentity(PrivateKey privateKey, List<X509Certificate> chain, Instant now, Origin origin) {
        this.chain = List.copyOf(chain);
        this.privateKey = privateKey;
        this.identity = ChainValidator.validate(privateKey, this.chain, now, origin).orElse(null);
        this.fingerprint = Certificates.fingerprint(this.chain.get(0));
    }

    /**
     * Loads an identity from a PEM chain file (leaf first) and a PEM file holding an unencrypted key.
     *
     * @param chainFile the leaf certificate followed by its intermediates
     * @param keyFile the leaf's private key
     * @return the checked identity
     * @throws CredentialException if a file cannot be read or parsed, or a check fails
     */
    public static TlsIdentity fromPem(Path chainFile, Path keyFile) {
        return DEFAULT.fromPem(chainFile, keyFile);
    }

    /**
     * Loads an identity from a PEM chain file and a PEM key file that may be encrypted.
     *
     * @param chainFile the leaf certificate followed by its intermediates
     * @param keyFile the leaf's private key, encrypted (PKCS#8 or legacy OpenSSL) or not
     * @param password the key's password; not kept after the call; null if the key is not encrypted
     * @return the checked identity
     * @throws CredentialException if a file cannot be read or parsed, the password is missing or
     *     wrong, or a check fails
     */
    public static TlsIdentity fromPem(Path chainFile, Path keyFile, char @Nullable [] password) {
        return DEFAULT.password(password).fromPem(chainFile, keyFile);
    }

    /**
     * Loads an identity from one PEM file holding the chain (leaf first) and an unencrypted key, in
     * either order.
     *
     * @param chainAndKeyFile the chain and key
     * @return the checked identity
     * @throws CredentialException if the file cannot be read or parsed, or a check fails
     */
    public static TlsIdentity fromPem(Path chainAndKeyFile) {
        return DEFAULT.fromPem(chainAndKeyFile);
    }

    /**
     * Loads an identity from one PEM file holding the chain and a key that may be encrypted.
     *
     * @param chainAndKeyFile the chain (leaf first) and key, in either order
     * @param password the key's password; not kept after the call; null if the key is not encrypted
     * @return the checked identity
     * @throws CredentialException if the file cannot be read or parsed, the password is missing or
     *     wrong, or a check fails
     */
    public static TlsIdentity fromPem(Path chainAndKeyFile, char @Nullable [] password) {
        return DEFAULT.password(password).fromPem(chainAndKeyFile);
    }

    /**
     * Loads the one key entry of a PKCS#12 key store.
     *
     * @param pkcs12File the key store
     * @param password protects the store and its key (null is tried as the empty password)
     * @return the checked identity
     * @throws CredentialException if the file cannot be read, is not PKCS#12, the password is wrong,
     *     it holds no or several keys, or a check fails
     */
    public static TlsIdentity fromPkcs12(Path pkcs12File, char @Nullable [] password) {
        return DEFAULT.password(password).fromPkcs12(pkcs12File);
    }

    /**
     * An identity from a key and chain already in memory, such as a development CA's
     * {@code IssuedCertificate}; checked like a loaded one.
     *
     * @param privateKey the leaf's private key
     * @param chain the leaf first, then its intermediates
     * @return the checked identity
     * @throws CredentialException if a check fails
     */
    public static TlsIdentity of(PrivateKey privateKey, List<X509Certificate> chain) {
        return DEFAULT.of(privateKey, chain);
    }

    /** A loader with the system clock and no password, to set either before loading. */
    public static Loader loader() {
        return DEFAULT;
    }

    /** The leaf certificate. */
    public X509Certificate certificate() {
        return chain.get(0);
    }

    /** The leaf first, then its intermediates, as loaded; unmodifiable. */
    public List<X509Certificate> chain() {
        return chain;
    }

    /**
     * The leaf's private key. Keys read from files or with a PKCS#8 encoding are JDK key objects,
     * usable without Bouncy Castle registered; a key without an encoding (in a token) is kept as given.
     */
    public PrivateKey privateKey() {
        return privateKey;
    }

    /** The leaf's SPIFFE identity, from its {@code spiffe://} URI SAN; empty if it has none. */
    public Optional<ServiceIdentity> identity() {
        return Optional.ofNullable(identity);
    }

    /** When the leaf certificate expires. */
    public Instant notAfter() {
        return certificate().getNotAfter().toInstant();
    }

    /** SHA-256 of the leaf certificate's DER encoding, lower-case hex without separators. */
    public String fingerprint() {
        return fingerprint;
    }

    /** The identity, leaf fingerprint and expiry; never key material. */
    @Override
    public String toString() {
        return "TlsIdentity[identity=" + (identity == null ? "none" : identity) + ", fingerprint=" + fingerprint
                + ", notAfter=" + notAfter() + "]";
    }

    /**
     * Loads {@link TlsIdentity TlsIdentities} with a chosen clock (for the validity check) and
     * password (for encrypted keys). Immutable: each setter returns a new loader, so one can be kept
     * and reused, e.g. to reload rotated files.
     */
    public static final class Loader {

        private final Clock clock;
        private final char @Nullable [] password;

        private Loader(Clock clock, char @Nullable [] password) {
            this.clock = clock;
            this.password = password;
        }

        /**
         * The clock the leaf's validity is checked against (default the system clock).
         *
         * @param clock the clock
         * @return a loader with this clock
         */
        public Loader clock(Clock clock) {
            return new Loader(Objects.requireNonNull(clock, "clock"), password);
        }

        /**
         * The password of encrypted keys and PKCS#12 stores. The loader keeps a copy; the caller may
         * clear its array afterwards.
         *
         * @param password the password, or null for none
         * @return a loader with this password
         */
        public Loader password(char @Nullable [] password) {
            return new Loader(clock, password == null ? null : password.clone());
        }

        /**
         * Loads an identity from a PEM chain file (leaf first) and a PEM key file.
         *
         * @param chainFile the certificates; other blocks in it are ignored
         * @param keyFile the one private key; certificates in it are ignored
         * @return the checked identity
         * @throws CredentialException if a file cannot be read or parsed, or a check fails
         */
        public TlsIdentity fromPem(Path chainFile, Path keyFile) {
            Objects.requireNonNull(chainFile, "chainFile");
            Objects.requireNonNull(keyFile, "keyFile");
            PemFile chainPem = PemFile.read(chainFile);
            try {
                PemFile keyPem = chainFile.equals(keyFile) ? chainPem : PemFile.read(keyFile);
                try {
                    if (chainPem != keyPem && !chainPem.keys().isEmpty()) {
                        LOG.warn("event=private_key_in_chain_file file=\"{}\" hint=\"chain files are often"
                                + " world-readable; keep the key in its own file\"", chainFile);
                    }
                    return load(chainPem, keyPem, "the chain in " + chainFile, "the private key in " + keyFile);
                } finally {
                    keyPem.wipeKeys();
                }
            } finally {
                chainPem.wipeKeys();
            }
        }

        /**
         * Loads an identity from one PEM file holding the chain (leaf first) and the key, in either order.
         *
         * @param chainAndKeyFile the chain and key
         * @return the checked identity
         * @throws CredentialException if the file cannot be read or parsed, or a check fails
         */
        public TlsIdentity fromPem(Path chainAndKeyFile) {
            Objects.requireNonNull(chainAndKeyFile, "chainAndKeyFile");
            PemFile pem = PemFile.read(chainAndKeyFile);
            try {
                return load(pem, pem, "the chain in " + chainAndKeyFile, "the private key in " + chainAndKeyFile);
            } finally {
                pem.wipeKeys();
            }
        }

        /**
         * Loads the one key entry of a PKCS#12 key store, opened with this loader's password.
         *
         * @param pkcs12File the key store
         * @return the checked identity
         * @throws CredentialException if the file cannot be read, is not PKCS#12, the password is
         *     wrong, it holds no or several keys, or a check fails
         */
        public TlsIdentity fromPkcs12(Path pkcs12File) {
            Objects.requireNonNull(pkcs12File, "pkcs12File");
            Pkcs12Reader.Entry entry = Pkcs12Reader.read(pkcs12File, password);
            String where = pkcs12File + " (alias '" + Certificates.printable(entry.alias()) + "')";
            return new TlsIdentity(entry.key(), entry.chain(), clock.instant(),
                    new Origin("the chain in " + where, "the private key in " + where));
        }

        /**
         * An identity from a key and chain in memory, checked like a loaded one.
         *
         * @param privateKey the leaf's private key
         * @param chain the leaf first, then its intermediates
         * @return the checked identity
         * @throws CredentialException if a check fails
         */
        public TlsIdentity of(PrivateKey privateKey, List<X509Certificate> chain) {
            Objects.requireNonNull(privateKey, "privateKey");
            Objects.requireNonNull(chain, "chain");
            chain.forEach(certificate -> Objects.requireNonNull(certificate, "chain holds a null certificate"));
            return new TlsIdentity(PrivateKeyReader.standardKey(privateKey), chain, clock.instant(),
                    new Origin("the given chain", "the given private key"));
        }

        private TlsIdentity load(PemFile chainPem, PemFile keyPem, String chainPhrase, String keyPhrase) {
            if (chainPem.certificates().isEmpty()) {
                throw new CredentialException(Reason.NO_CERTIFICATE, chainPem.name() + " holds no certificate"
                        + " (found " + chainPem.contents() + "): pass the certificate chain, leaf first");
            }
            if (keyPem.keys().isEmpty()) {
                throw new CredentialException(Reason.NO_PRIVATE_KEY, keyPem.name() + " holds no private key"
                        + " (found " + keyPem.contents() + "): pass the private key file");
            }
            if (keyPem.keys().size() > 1) {
                throw new CredentialException(Reason.MULTIPLE_PRIVATE_KEYS, keyPem.name() + " holds "
                        + keyPem.keys().size() + " private keys (found " + keyPem.contents() + "): keep only the"
                        + " key of the leaf certificate");
            }
            X509Certificate leaf = chainPem.certificates().get(0);
            PrivateKey key = PrivateKeyReader.read(keyPem.keys().get(0), password, leaf);
            return new TlsIdentity(key, chainPem.certificates(), clock.instant(), new Origin(chainPhrase, keyPhrase));
        }

        /** The clock and whether a password is set; never the password. */
        @Override
        public String toString() {
            return "TlsIdentity.Loader[clock=" + clock + ", password=" + (password == null ? "none" : "set") + "]";
        }
    }
}
