package io.settler.zerotrust.pki;

import java.nio.file.Path;

/**
 * Where {@link IssuedCertificate#writePem} put its files.
 *
 * @param chain the leaf followed by any intermediate, PEM
 * @param privateKey the unencrypted PKCS#8 private key, PEM, readable by its owner only (0600)
 * @param caBundle the root certificate peers should trust, PEM
 */
public record PemFiles(Path chain, Path privateKey, Path caBundle) {
}
