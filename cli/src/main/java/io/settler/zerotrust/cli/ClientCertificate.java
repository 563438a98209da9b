package io.settler.zerotrust.cli;

import io.settler.zerotrust.credentials.CredentialException;
import io.settler.zerotrust.credentials.TlsIdentity;
import io.settler.zerotrust.credentials.TrustBundle;
import java.nio.file.Path;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Option;

/**
 * The operator's client certificate ({@code --cert}, {@code --key}), loaded and checked by the
 * library ({@link TlsIdentity#fromPem}) as its own clients load theirs; and trust bundles
 * ({@link TrustBundle#fromPem}). A file the library refuses is a usage error with its message.
 */
final class ClientCertificate {

    @Option(names = "--cert", paramLabel = "<chain.pem>",
            description = "Your client certificate (PEM: the leaf, then its intermediates).")
    @Nullable Path chain;

    @Option(names = "--key", paramLabel = "<key.pem>", description = "Its private key (PEM, not encrypted).")
    @Nullable Path key;

    /** Whether either option was given. */
    boolean given() {
        return chain != null || key != null;
    }

    /**
     * The certificate and key.
     *
     * @param why what needs them, for the message when they are missing
     * @throws UsageException if either is missing or the library refuses them
     */
    TlsIdentity identity(String why) {
        Path chainFile = chain;
        Path keyFile = key;
        if (chainFile == null || keyFile == null) {
            throw new UsageException(why + " needs --cert <chain.pem> and --key <key.pem>: your client certificate"
                    + " and its key");
        }
        Inputs.existingFile(chainFile, "client certificate chain (PEM)");
        Inputs.existingFile(keyFile, "private key (PEM)");
        try {
            return TlsIdentity.fromPem(chainFile, keyFile);
        } catch (CredentialException e) {
            throw new UsageException("--cert " + chainFile + " / --key " + keyFile + " refused ("
                    + e.reason() + "): " + e.getMessage(), e);
        }
    }

    /**
     * A trust bundle the library accepts.
     *
     * @param bundle the PEM file
     * @param option the option that named it, for the message
     * @throws UsageException if the file is missing or the library refuses it
     */
    static TrustBundle trust(Path bundle, String option) {
        Inputs.existingFile(bundle, "trust bundle (PEM CA certificates)");
        try {
            return TrustBundle.fromPem(bundle);
        } catch (CredentialException e) {
            throw new UsageException(option + " " + bundle + " refused (" + e.reason() + "): " + e.getMessage(), e);
        }
    }
}
