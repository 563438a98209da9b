package io.settler.zerotrust.credentials;

import io.settler.zerotrust.credentials.CredentialException.Reason;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Objects;

/** Reads a credential file whole, with a size cap, turning every I/O failure into a clear refusal. */
final class CredentialFile {

    /** Far above any real chain, key store or CA bundle (a full public CA bundle is ~250 KiB). */
    static final int MAX_BYTES = 4 * 1024 * 1024;

    private CredentialFile() {
    }

    /**
     * The file's bytes. The caller owns the array and should zero it once parsed, since it may hold
     * key material.
     */
    static byte[] read(Path file) {
        Objects.requireNonNull(file, "file");
        if (Files.isDirectory(file)) {
            throw new CredentialException(Reason.FILE_UNREADABLE,
                    file + " is a directory: pass the path of the file inside it");
        }
        try (InputStream in = Files.newInputStream(file)) {
            byte[] bytes = in.readNBytes(MAX_BYTES + 1);
            if (bytes.length > MAX_BYTES) {
                Arrays.fill(bytes, (byte) 0);
                throw new CredentialException(Reason.FILE_UNREADABLE, file + " is larger than "
                        + MAX_BYTES / (1024 * 1024) + " MiB, far more than credentials take: check the path");
            }
            return bytes;
        } catch (NoSuchFileException e) {
            throw new CredentialException(Reason.FILE_UNREADABLE,
                    file + " does not exist: check the path (and that the secret is mounted)", e);
        } catch (AccessDeniedException e) {
            throw new CredentialException(Reason.FILE_UNREADABLE,
                    file + " cannot be read (permission denied): check its owner and mode", e);
        } catch (IOException e) {
            throw new CredentialException(Reason.FILE_UNREADABLE,
                    file + " cannot be read (" + e.getClass().getSimpleName() + "): check the path and the file", e);
        }
    }
}
