package io.settler.zerotrust.pki;

import io.settler.zerotrust.identity.ServiceIdentity;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Objects;

/**
 * A leaf certificate issued by a {@link DevCertificateAuthority}, with its chain and private key.
 * Immutable; the private key stays in memory until written out.
 */
public final class IssuedCertificate {

    private final ServiceIdentity identity;
    private final List<X509Certificate> chain;
    private final PrivateKey privateKey;
    private final X509Certificate rootCertificate;

    IssuedCertificate(ServiceIdentity identity, List<X509Certificate> chain, PrivateKey privateKey,
                      X509Certificate rootCertificate) {
        this.identity = identity;
        this.chain = List.copyOf(chain);
        this.privateKey = privateKey;
        this.rootCertificate = rootCertificate;
    }

    /** The identity the certificate was issued for (its URI SAN, unless issued with {@code WRONG_SAN}). */
    public ServiceIdentity identity() {
        return identity;
    }

    /** The leaf certificate. */
    public X509Certificate certificate() {
        return chain.get(0);
    }

    /** The leaf first, then any intermediate; never the root. */
    public List<X509Certificate> chain() {
        return chain;
    }

    /** The leaf's private key. */
    public PrivateKey privateKey() {
        return privateKey;
    }

    /** The root of the CA that issued this certificate: what a peer must trust to accept it. */
    public X509Certificate rootCertificate() {
        return rootCertificate;
    }

    /** The chain as PEM, leaf first. */
    public String chainPem() {
        return Pem.certificates(chain);
    }

    /** The private key as unencrypted PKCS#8 PEM ({@code BEGIN PRIVATE KEY}). Handle with care. */
    public String privateKeyPem() {
        return Pem.privateKey(privateKey);
    }

    /** The root certificate as PEM, ready to be a trust bundle. */
    public String caBundlePem() {
        return Pem.certificates(List.of(rootCertificate));
    }

    /**
     * Writes {@code <baseName>.crt} (chain), {@code <baseName>.key} (PKCS#8, mode 0600) and
     * {@code ca.crt} (root) into {@code directory}, replacing files of those names atomically.
     *
     * @param directory where to write; created if missing
     * @param baseName file name stem, e.g. the service name
     * @return the three paths
     */
    public PemFiles writePem(Path directory, String baseName) {
        Objects.requireNonNull(directory, "directory");
        Objects.requireNonNull(baseName, "baseName");
        return new PemFiles(
                Pem.writePublic(directory.resolve(baseName + ".crt"), chainPem()),
                Pem.writeSecret(directory.resolve(baseName + ".key"), privateKeyPem()),
                Pem.writePublic(directory.resolve("ca.crt"), caBundlePem()));
    }

    /**
     * Writes key and chain as a PKCS#12 key store (mode 0600), under the service name as alias.
     *
     * @param file where to write; replaced if present
     * @param password protects the key store and the key in it
     * @return the absolute path written
     */
    public Path writePkcs12(Path file, char[] password) {
        return writePkcs12(file, password, identity.serviceName());
    }

    /**
     * Writes key and chain as a PKCS#12 key store (mode 0600) under the given alias, for readers
     * that look for one name (pgjdbc's {@code PKCS12KeyManager} reads only the alias {@code user}).
     *
     * @param file where to write; replaced if present
     * @param password protects the key store and the key in it
     * @param alias the entry's name
     * @return the absolute path written
     */
    public Path writePkcs12(Path file, char[] password, String alias) {
        Objects.requireNonNull(file, "file");
        Objects.requireNonNull(password, "password");
        Objects.requireNonNull(alias, "alias");
        try {
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            store.setKeyEntry(alias, privateKey, password, chain.toArray(X509Certificate[]::new));
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            store.store(out, password);
            return Pem.writeSecret(file, out.toByteArray());
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException("cannot build a PKCS#12 key store for " + identity, e);
        }
    }

    /** Names the identity and the leaf's validity; never key material. */
    @Override
    public String toString() {
        return "IssuedCertificate[" + identity + ", notAfter=" + certificate().getNotAfter().toInstant() + "]";
    }
}
