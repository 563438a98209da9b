package io.settler.zerotrust.redis;

import io.settler.zerotrust.audit.LogSafe;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Objects;

/** A password read from a file on each call. */
final class FilePasswordSource implements PasswordSource {

    /** A password file larger than this is a mistake (a key or a log passed by error). */
    private static final long MAX_SIZE = 4096;

    private final Path file;

    FilePasswordSource(Path file) {
        this.file = Objects.requireNonNull(file, "file");
    }

    @Override
    public char[] password() {
        byte[] bytes;
        try {
            if (Files.size(file) > MAX_SIZE) {
                throw new RedisTlsException(RedisTlsException.Reason.PASSWORD_UNREADABLE, "the password file " + shown()
                        + " is larger than " + MAX_SIZE
                        + " bytes; point passwordFile at the file that holds only the password");
            }
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new RedisTlsException(RedisTlsException.Reason.PASSWORD_UNREADABLE, "the password file "
                    + shown() + " does not exist: write the ACL user's password into it (or"
                    + " mount the secret there) before building the client");
        } catch (IOException e) {
            throw new RedisTlsException(RedisTlsException.Reason.PASSWORD_UNREADABLE, "cannot read the password file "
                    + shown() + " (" + e.getClass().getSimpleName() + "); check that this"
                    + " process may read it");
        }
        try {
            CharBuffer chars = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes));
            int end = chars.limit();
            if (end > 0 && chars.get(end - 1) == '\n') {
                end--;
            }
            if (end > 0 && chars.get(end - 1) == '\r') {
                end--;
            }
            char[] password = new char[end];
            chars.get(password, 0, end);
            Arrays.fill(chars.array(), '\0');
            if (password.length == 0) {
                throw new RedisTlsException(RedisTlsException.Reason.PASSWORD_MISSING, "the password file " + shown()
                        + " is empty; write the ACL user's password into it");
            }
            return password;
        } catch (CharacterCodingException e) {
            throw new RedisTlsException(RedisTlsException.Reason.PASSWORD_UNREADABLE, "the password file " + shown()
                    + " is not UTF-8 text");
        } finally {
            Arrays.fill(bytes, (byte) 0);
        }
    }

    /** The file's name, escaped for a message. */
    private String shown() {
        return LogSafe.text(file.toString());
    }

    @Override
    public String toString() {
        return "PasswordSource.fromFile[" + file + "]";
    }
}
