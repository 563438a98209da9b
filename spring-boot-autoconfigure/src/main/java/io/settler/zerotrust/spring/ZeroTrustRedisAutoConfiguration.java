package io.settler.zerotrust.spring;

import io.lettuce.core.RedisCredentialsProvider;
import io.lettuce.core.RedisURI;
import io.lettuce.core.SslVerifyMode;
import io.lettuce.core.api.StatefulRedisConnection;
import io.settler.zerotrust.audit.AuditLog;
import io.settler.zerotrust.credentials.CredentialSource;
import io.settler.zerotrust.policy.ServicePolicy;
import io.settler.zerotrust.redis.HardenedRedis;
import io.settler.zerotrust.redis.PasswordSource;
import io.settler.zerotrust.redis.RedisTlsException;
import java.nio.file.Path;
import java.util.Objects;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.health.autoconfigure.contributor.ConditionalOnEnabledHealthIndicator;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Conditional;
import org.springframework.context.annotation.Configuration;
import org.springframework.data.redis.connection.RedisConfiguration;
import org.springframework.data.redis.connection.RedisConnectionFactory;
import org.springframework.data.redis.connection.RedisStandaloneConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceClientConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.connection.lettuce.RedisCredentialsProviderFactory;

/**
 * Redis from {@code zerotrust.redis.*} ({@link ZeroTrustRedisProperties}), when the application has
 * {@code zerotrust-redis-tls} and sets any of them: a {@link HardenedRedis} client (TLS 1.3, the
 * server verified against the trust bundle and by name, the service's rotating certificate, the
 * ACL user's password read from a file or the environment on every connect) and one shared,
 * proven {@link StatefulRedisConnection} of strings (connected at start: TLS 1.3 and the ACL user
 * proven, or the start fails); with Spring Data Redis, a {@code LettuceConnectionFactory} on the
 * hardened client ({@link SpringData}). With Actuator, the {@code zerotrustRedis} health component. An
 * insecure or missing setting stops the start ({@link ZeroTrustConfigurationException} naming the
 * property).
 */
@AutoConfiguration(after = ZeroTrustAutoConfiguration.class, beforeName =
        "org.springframework.boot.data.redis.autoconfigure.DataRedisAutoConfiguration")
@ConditionalOnClass(name = "io.settler.zerotrust.redis.HardenedRedis")
@Conditional(ZeroTrustRedisAutoConfiguration.OnRedisSettings.class)
@EnableConfigurationProperties(ZeroTrustRedisProperties.class)
public final class ZeroTrustRedisAutoConfiguration {

    private static final String PREFIX = "zerotrust.redis";

    /** Created by Spring. */
    public ZeroTrustRedisAutoConfiguration() {
        // beans only
    }

    /** The ACL password's source: {@code password-file} or {@code password-environment}, read on each connect. */
    @Bean
    @ConditionalOnMissingBean
    PasswordSource zeroTrustRedisPassword(ZeroTrustRedisProperties properties, StartupChecks checks) {
        Path file = properties.passwordFile();
        String variable = properties.passwordEnvironment();
        if (file != null && variable != null) {
            throw checks.refuse(ZeroTrustConfigurationException.Reason.INSECURE_DATA_STORE, PREFIX + ".password-file",
                    "set either " + PREFIX + ".password-file or " + PREFIX + ".password-environment, not both", null);
        }
        return file != null ? PasswordSource.fromFile(file) : PasswordSource.fromEnvironment(checks.require(variable,
                PREFIX + ".password-file", "/run/secrets/redis-password"));
    }

    /** The client: {@code zerotrust.redis.*}, the service's credentials and audit log. */
    @Bean(destroyMethod = "close")
    @ConditionalOnMissingBean
    HardenedRedis zeroTrustRedis(ZeroTrustRedisProperties properties, ServicePolicy service, PasswordSource password,
                                 CredentialSource credentials, AuditLog audit, StartupChecks checks) {
        String uri = checks.require(properties.uri(), PREFIX + ".uri", "rediss://cache.internal:6380");
        HardenedRedis.Builder builder = HardenedRedis.builder().uri(uri).user(user(properties, service))
                .password(password).credentials(credentials).auditLog(audit);
        try {
            String expectedServer = properties.expectedServer();
            if (expectedServer != null) {
                builder.expectedServer(expectedServer);
            }
            return builder.commandTimeout(properties.commandTimeout()).connectTimeout(properties.connectTimeout())
                    .build();
        } catch (RedisTlsException e) {
            throw refuse(checks, e, properties.passwordFile() != null);
        }
    }

    private static String user(ZeroTrustRedisProperties properties, ServicePolicy service) {
        String configured = properties.user();
        return configured != null ? configured : service.name();
    }

    /** One connection for the application, proven at start (TLS 1.3, the ACL user); Lettuce's are thread-safe. */
    @Bean(destroyMethod = "close")
    @ConditionalOnMissingBean
    StatefulRedisConnection<String, String> zeroTrustRedisConnection(HardenedRedis redis,
                                                                    ZeroTrustRedisProperties properties,
                                                                    StartupChecks checks) {
        try {
            return redis.connect();
        } catch (RedisTlsException e) {
            throw refuse(checks, e, properties.passwordFile() != null);
        }
    }

    private static ZeroTrustConfigurationException refuse(StartupChecks checks, RedisTlsException e,
                                                          boolean passwordFromFile) {
        return checks.refuse(e.reason() == RedisTlsException.Reason.PLAINTEXT_SCHEME
                        ? ZeroTrustConfigurationException.Reason.PLAINTEXT_CLIENT
                        : ZeroTrustConfigurationException.Reason.INSECURE_DATA_STORE,
                setting(e.reason(), passwordFromFile), "Redis refused (" + e.reason() + "): " + e.getMessage(), e);
    }

    /** The property that decides what the client refused. */
    static String setting(RedisTlsException.Reason reason, boolean passwordFromFile) {
        switch (reason) {
            case PASSWORD_MISSING:
            case PASSWORD_UNREADABLE:
            case AUTHENTICATION_FAILED:
                return PREFIX + (passwordFromFile ? ".password-file" : ".password-environment");
            case WRONG_USER:
                return PREFIX + ".user";
            case HANDSHAKE_FAILED:
                return "zerotrust.credentials";
            default: // the scheme, the verification, the server it names
                return PREFIX + ".uri";
        }
    }

    /**
     * Spring Data Redis on the hardened client, when the application has it: a
     * {@code LettuceConnectionFactory} (so Boot's {@code RedisTemplate}, {@code StringRedisTemplate} and
     * repositories use it, and Boot's own factory backs off) with {@link HardenedRedis}'s client options
     * (its TLS: TLS 1.3, the service's certificate, the server verified by chain and name) and client
     * resources (its handshake guard: no session resumption, no TLS 1.2 channel), full peer
     * verification, and the ACL user with the password read on each connect. Its connections are
     * not proven with {@code ACL WHOAMI} as {@link HardenedRedis#connect()}'s are.
     */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(name = "org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory")
    static class SpringData {

        @Bean
        @ConditionalOnMissingBean(RedisConnectionFactory.class)
        LettuceConnectionFactory redisConnectionFactory(HardenedRedis redis, ZeroTrustRedisProperties properties,
                                                        ServicePolicy service, PasswordSource password) {
            RedisURI server = RedisURI.create(Objects.requireNonNull(properties.uri(), "checked by zeroTrustRedis"));
            String user = user(properties, service);
            RedisCredentialsProvider credentials = password.credentialsFor(user);
            LettuceClientConfiguration client = LettuceClientConfiguration.builder()
                    .clientOptions(redis.client().getOptions()).clientResources(redis.client().getResources())
                    .commandTimeout(properties.commandTimeout())
                    .redisCredentialsProviderFactory(new RedisCredentialsProviderFactory() {
                        @Override
                        public RedisCredentialsProvider createCredentialsProvider(RedisConfiguration configuration) {
                            return credentials;
                        }
                    })
                    .useSsl().verifyPeer(SslVerifyMode.FULL).and().build();
            return new LettuceConnectionFactory(new RedisStandaloneConfiguration(server.getHost(), server.getPort()),
                    client);
        }
    }

    /** Actuator's {@code zerotrustRedis} component: a round trip on the proven connection. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(name = "org.springframework.boot.health.contributor.HealthIndicator")
    @ConditionalOnEnabledHealthIndicator("zerotrust-redis")
    static class Health {

        @Bean
        HealthIndicator zerotrustRedisHealthIndicator(HardenedRedis redis,
                                                      StatefulRedisConnection<String, String> connection,
                                                      CredentialSource credentials) {
            return new RedisHealthIndicator(redis, connection, credentials);
        }
    }

    /** Any {@code zerotrust.redis.*} property set. */
    static final class OnRedisSettings extends OnSettings {
        OnRedisSettings() {
            super(PREFIX);
        }
    }
}
