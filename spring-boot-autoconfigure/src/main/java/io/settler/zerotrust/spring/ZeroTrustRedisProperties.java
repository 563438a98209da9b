package io.settler.zerotrust.spring;

import java.nio.file.Path;
import java.time.Duration;
import org.jspecify.annotations.Nullable;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * The {@code zerotrust.redis.*} settings: a redis-tls {@code HardenedRedis} on this service's
 * rotating credentials.
 *
 * <pre>{@code
 * zerotrust:
 *   redis:
 *     uri: rediss://cache.internal:6380        # TLS 1.3, the server verified fully; redis:// stops the start
 *     password-file: /run/secrets/redis-password
 *     # user: api                              # the ACL user; default zerotrust.service
 * }</pre>
 *
 * <p>The password is never a property value: it is read from a file or an environment variable
 * on every connect and reconnect, so a rotated secret is used without a restart.
 *
 * @param uri the server, {@code rediss://host[:port]} only: no password, no weaker peer verification
 * @param user the ACL user to log in as; default {@code zerotrust.service} ({@code default} is refused)
 * @param passwordFile the file holding the ACL user's password (one trailing line break dropped)
 * @param passwordEnvironment the environment variable holding it, instead of a file
 * @param expectedServer the name the server certificate must carry (SPIFFE ID, DNS name or IP address);
 *     default the URI's host
 * @param commandTimeout how long a command may take before it fails
 * @param connectTimeout how long the TCP connect, and again the TLS handshake, may take
 */
@ConfigurationProperties("zerotrust.redis")
public record ZeroTrustRedisProperties(@Nullable String uri, @Nullable String user, @Nullable Path passwordFile,
                                       @Nullable String passwordEnvironment, @Nullable String expectedServer,
                                       @DefaultValue("5s") Duration commandTimeout,
                                       @DefaultValue("5s") Duration connectTimeout) {
}
