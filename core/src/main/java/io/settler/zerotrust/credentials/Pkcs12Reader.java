package io.settler.zerotrust.credentials;

import io.settler.zerotrust.credentials.CredentialException.Reason;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.Key;
import java.security.KeyStore;
import java.security.NoSuchAlgorithmException;
import java.security.PrivateKey;
import java.security.UnrecoverableKeyException;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import org.jspecify.annotations.Nullable;

/** Reads the one private key entry of a PKCS#12 key store with the JDK's PKCS12 implementation. */
final class Pkcs12Reader {

    private Pkcs12Reader() {
    }

    /**
     * The key entry of a PKCS#12 file.
     *
     * @param alias the entry's alias
     * @param key its private key, as a key object of the standard algorithm name (whichever
     *     provider's PKCS12 store read it)
     * @param chain its certificate chain, leaf first, as stored
     */
    record Entry(String alias, PrivateKey key, List<X509Certificate> chain) {
    }

    /**
     * Reads {@code file}; {@code password} protects both the store and the key (as {@code openssl
     * pkcs12 -export} and the JDK write them). A null password is tried as the empty one.
     */
    static Entry read(Path file, char @Nullable [] password) {
        boolean passwordGiven = password != null && password.length > 0;
        char[] pw = password == null ? new char[0] : password;
        byte[] bytes = CredentialFile.read(file);
        KeyStore store;
        try {
            store = KeyStore.getInstance("PKCS12");
            store.load(new ByteArrayInputStream(bytes), pw);
        } catch (IOException e) {
            if (e.getCause() instanceof UnrecoverableKeyException) {
                throw passwordGiven
                        ? new CredentialException(Reason.WRONG_PASSWORD, file + " is a PKCS#12 key store and the"
                                + " password does not open it: check the password")
                        : new CredentialException(Reason.PASSWORD_REQUIRED, file + " is a password-protected"
                                + " PKCS#12 key store: pass its password");
            }
            throw malformed(file, bytes, e);
        } catch (NoSuchAlgorithmException e) {
            throw new CredentialException(Reason.UNSUPPORTED_KEY_FORMAT, file + " is a PKCS#12 key store protected"
                    + " with an algorithm this JVM does not support: re-export it with 'openssl pkcs12 -export"
                    + " -keypbe AES-256-CBC -certpbe AES-256-CBC -macalg sha256'", e);
        } catch (GeneralSecurityException | RuntimeException e) {
            throw malformed(file, bytes, e);
        } finally {
            Arrays.fill(bytes, (byte) 0);
        }
        return entry(file, store, pw, passwordGiven);
    }

    private static Entry entry(Path file, KeyStore store, char[] password, boolean passwordGiven) {
        try {
            List<String> keyAliases = new ArrayList<>();
            for (String alias : Collections.list(store.aliases())) {
                if (store.isKeyEntry(alias)) {
                    keyAliases.add(alias);
                }
            }
            if (keyAliases.isEmpty()) {
                throw new CredentialException(Reason.NO_PRIVATE_KEY, file + " is a PKCS#12 key store with "
                        + store.size() + (store.size() == 1 ? " entry" : " entries") + " but no private key:"
                        + " export the key with its"
                        + " certificate ('openssl pkcs12 -export -inkey key.pem -in chain.pem')");
            }
            if (keyAliases.size() > 1) {
                throw new CredentialException(Reason.MULTIPLE_PRIVATE_KEYS, file + " is a PKCS#12 key store with "
                        + keyAliases.size() + " key entries (" + Certificates.printable(String.join(", ", keyAliases))
                        + "): keep one identity per file");
            }
            String alias = keyAliases.get(0);
            String where = file + " (alias '" + Certificates.printable(alias) + "')";
            Key key;
            try {
                key = store.getKey(alias, password);
            } catch (UnrecoverableKeyException e) {
                throw passwordGiven
                        ? new CredentialException(Reason.WRONG_PASSWORD, where + " holds a key whose password"
                                + " differs from the store's: re-export it with one password for both")
                        : new CredentialException(Reason.PASSWORD_REQUIRED, where + " holds a password-protected"
                                + " key: pass its password");
            }
            if (!(key instanceof PrivateKey privateKey)) {
                throw new CredentialException(Reason.NO_PRIVATE_KEY, where + " holds a "
                        + (key == null ? "missing" : key.getAlgorithm()) + " key that is not a private key");
            }
            Certificate[] stored = store.getCertificateChain(alias);
            List<X509Certificate> chain = new ArrayList<>();
            for (Certificate certificate : stored == null ? new Certificate[0] : stored) {
                if (!(certificate instanceof X509Certificate x509)) {
                    throw new CredentialException(Reason.NO_CERTIFICATE, where + " holds a "
                            + certificate.getType() + " certificate, not X.509");
                }
                chain.add(x509);
            }
            return new Entry(alias, PrivateKeyReader.standardKey(privateKey), chain);
        } catch (GeneralSecurityException e) {
            throw new CredentialException(Reason.MALFORMED_PKCS12, file + " is a PKCS#12 key store whose entries"
                    + " cannot be read (" + e.getClass().getSimpleName() + "): re-export it", e);
        }
    }

    private static CredentialException malformed(Path file, byte[] bytes, Exception e) {
        boolean pem = startsWithPem(bytes);
        if (bytes.length == 0) {
            return new CredentialException(Reason.MALFORMED_PKCS12, file + " is empty: it should be a PKCS#12 key"
                    + " store; check that the file was written completely");
        }
        return new CredentialException(Reason.MALFORMED_PKCS12, pem
                ? file + " is a PEM file, not PKCS#12: load it with TlsIdentity.fromPem"
                : file + " is not a readable PKCS#12 key store (" + e.getClass().getSimpleName()
                        + "): check that it is the right file and complete", e);
    }

    /** Whether a {@code -----BEGIN } line appears within the first 4 KiB (after any leading text). */
    private static boolean startsWithPem(byte[] bytes) {
        byte[] begin = "-----BEGIN ".getBytes(StandardCharsets.US_ASCII);
        outer:
        for (int i = 0; i <= Math.min(bytes.length, 4096) - begin.length; i++) {
            for (int j = 0; j < begin.length; j++) {
                if (bytes[i + j] != begin[j]) {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }
}
