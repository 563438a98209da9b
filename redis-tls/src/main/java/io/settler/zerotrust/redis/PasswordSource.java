package io.settler.zerotrust.redis;

import java.nio.file.Path;

/**
 * Where the ACL password comes from. It is read once when the client is built, so a missing secret
 * fails {@code build()}, and again on every connect and reconnect, so a rotated password (a
 * re-mounted secret file, a restarted sidecar) is used without a restart.
 * Implementations are thread-safe, return a fresh array the caller may wipe, and never put the
 * password in {@code toString()}.
 */
@FunctionalInterface
public interface PasswordSource {

    /**
     * The current password.
     *
     * @return a fresh, non-empty array
     * @throws RedisTlsException {@code PASSWORD_MISSING} or {@code PASSWORD_UNREADABLE}
     */
    char[] password();

    /**
     * The content of a file, without one trailing line break (as secret mounts write it). The file
     * is read on each connect, so replacing it rotates the password.
     *
     * @param file e.g. {@code /run/secrets/redis-password}
     * @return the source
     */
    static PasswordSource fromFile(Path file) {
        return new FilePasswordSource(file);
    }

    /**
     * The value of an environment variable, read on each connect.
     *
     * @param variable e.g. {@code REDIS_PASSWORD}
     * @return the source
     */
    static PasswordSource fromEnvironment(String variable) {
        return new EnvironmentPasswordSource(variable, System::getenv);
    }
}
