package io.settler.zerotrust.redis;

import io.lettuce.core.RedisCredentials;
import io.lettuce.core.RedisCredentialsProvider;
import java.util.Objects;
import reactor.core.publisher.Mono;

/**
 * Lettuce credentials for one ACL user, with the password read from its {@link PasswordSource} on
 * every connect and reconnect. Neither this nor the credentials it hands out print the password.
 */
final class AclCredentialsProvider implements RedisCredentialsProvider {

    private final String user;
    private final PasswordSource passwords;

    AclCredentialsProvider(String user, PasswordSource passwords) {
        this.user = Objects.requireNonNull(user, "user");
        this.passwords = Objects.requireNonNull(passwords, "passwords");
    }

    @Override
    public Mono<RedisCredentials> resolveCredentials() {
        return Mono.fromCallable(() -> new AclCredentials(user, passwords.password()));
    }

    @Override
    public String toString() {
        return "AclCredentialsProvider[user=" + user + ", " + passwords + "]";
    }

    /** One user and password; the password is never printed. */
    private static final class AclCredentials implements RedisCredentials {
        private final String user;
        private final char[] password;

        AclCredentials(String user, char[] password) {
            this.user = user;
            this.password = password;
        }

        @Override
        public String getUsername() {
            return user;
        }

        @Override
        public boolean hasUsername() {
            return true;
        }

        @Override
        public char[] getPassword() {
            return password.clone();
        }

        @Override
        public boolean hasPassword() {
            return password.length > 0;
        }

        @Override
        public String toString() {
            return "RedisCredentials[user=" + user + ", password=***]";
        }
    }
}
