package io.settler.zerotrust.redis;

import io.lettuce.core.RedisCredentialsProvider;
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

    /**
     * Lettuce credentials for the ACL user {@code user} with this password, read again on every
     * connect and reconnect: what {@link HardenedRedis} logs in with, for a client built elsewhere
     * on its settings (Spring Data Redis's connection factory). Neither the provider nor the
     * credentials it hands out print the password.
     *
     * @param user the ACL user name
     * @return the provider
     */
    default RedisCredentialsProvider credentialsFor(String user) {
        return new AclCredentialsProvider(user, this);
    }
}
