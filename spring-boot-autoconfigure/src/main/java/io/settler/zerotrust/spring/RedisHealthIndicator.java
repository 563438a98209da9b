package io.settler.zerotrust.spring;

import io.lettuce.core.api.StatefulRedisConnection;
import io.settler.zerotrust.audit.LogSafe;
import io.settler.zerotrust.credentials.CredentialSource;
import io.settler.zerotrust.identity.ServiceIdentity;
import io.settler.zerotrust.redis.HardenedRedis;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;

/**
 * The {@code zerotrustRedis} health component: {@code ACL WHOAMI} on the application's proven
 * connection. {@code UP} when the server answers as the configured ACL user; {@code DOWN} when it
 * does not answer (disconnected: commands are rejected, never queued) or answers as another user.
 * The connection was proven TLS 1.3 when it was made, and every reconnect's handshake is checked
 * again by redis-tls (anything else is closed before a command). Details: {@code client} (the
 * server's URI and the user), {@code user}, {@code tls} ({@code TLSv1.3}), {@code verification} ({@code full}: chain
 * and name) and {@code identity} (this service's SPIFFE ID). No password or key is in them.
 */
final class RedisHealthIndicator implements HealthIndicator {

    private final HardenedRedis redis;
    private final StatefulRedisConnection<String, String> connection;
    private final CredentialSource credentials;

    RedisHealthIndicator(HardenedRedis redis, StatefulRedisConnection<String, String> connection,
                         CredentialSource credentials) {
        this.redis = redis;
        this.connection = connection;
        this.credentials = credentials;
    }

    @Override
    public Health health() {
        Health.Builder health = Health.up();
        health.withDetail("client", redis.toString()) // server and user, never the password
                .withDetail("user", redis.user()).withDetail("tls", "TLSv1.3").withDetail("verification", "full")
                .withDetail("identity", credentials.current().identity().identity().map(ServiceIdentity::toString)
                        .orElse("none"));
        try {
            String user = connection.sync().aclWhoami();
            if (!redis.user().equals(user)) {
                return health.down().withDetail("problem", "the connection is user " + LogSafe.text(user)).build();
            }
            return health.build();
        } catch (RuntimeException e) {
            return health.down().withDetail("problem", "no answer: " + e.getClass().getSimpleName()).build();
        }
    }
}
