package io.settler.zerotrust.spring;

import io.settler.zerotrust.audit.AuditLog;
import io.settler.zerotrust.credentials.CredentialSource;
import io.settler.zerotrust.jdbc.InsecureDataSourceException;
import io.settler.zerotrust.jdbc.PostgresMtlsDataSource;
import io.settler.zerotrust.jdbc.TenantScope;
import io.settler.zerotrust.policy.ServicePolicy;
import java.time.Duration;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.health.autoconfigure.contributor.ConditionalOnEnabledHealthIndicator;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Conditional;
import org.springframework.context.annotation.Configuration;
import org.springframework.transaction.TransactionManager;

/**
 * PostgreSQL from {@code zerotrust.postgres.*} ({@link ZeroTrustPostgresProperties}), when the
 * application has {@code zerotrust-jdbc-mtls} and sets any of them: a {@link PostgresMtlsDataSource}
 * (verify-full mutual TLS 1.3 with the service's rotating credentials, its start-up proof passed) as
 * the application's {@code DataSource}, a {@link TenantScope} on it, and, with Spring Security and
 * Spring's JDBC support, the {@link TenantTransactionManager} that runs each transaction for the
 * tenant of the caller's service token. With Actuator, the {@code zerotrustPostgres} health
 * component. A missing or insecure setting, or a server that fails the proof, stops the start
 * ({@link ZeroTrustConfigurationException} naming the property).
 */
@AutoConfiguration(after = ZeroTrustAutoConfiguration.class, beforeName = {
        "org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration",
        "org.springframework.boot.jdbc.autoconfigure.DataSourceTransactionManagerAutoConfiguration",
        "org.springframework.boot.transaction.autoconfigure.TransactionAutoConfiguration"})
@ConditionalOnClass(name = "io.settler.zerotrust.jdbc.PostgresMtlsDataSource")
@Conditional(ZeroTrustPostgresAutoConfiguration.OnPostgresSettings.class)
@EnableConfigurationProperties(ZeroTrustPostgresProperties.class)
public final class ZeroTrustPostgresAutoConfiguration {

    private static final String PREFIX = "zerotrust.postgres";

    /** Created by Spring. */
    public ZeroTrustPostgresAutoConfiguration() {
        // beans only
    }

    /**
     * The pool: the URL's host, port, database and tuning parameters, the role (default
     * {@code zerotrust.service}), the service's credentials; built only once the server proved
     * TLS 1.3, this certificate and a role bound by row-level security.
     */
    @Bean(destroyMethod = "close")
    @ConditionalOnMissingBean
    PostgresMtlsDataSource zeroTrustDataSource(ZeroTrustPostgresProperties properties, ServicePolicy service,
                                               CredentialSource credentials, AuditLog audit, StartupChecks checks) {
        String url = checks.require(properties.url(), PREFIX + ".url", "jdbc:postgresql://db.internal:5432/orders");
        if (!url.startsWith("jdbc:postgresql://")) {
            throw checks.refuse(ZeroTrustConfigurationException.Reason.PLAINTEXT_CLIENT, PREFIX + ".url",
                    PREFIX + ".url must be jdbc:postgresql://host:port/database (always verify-full mutual TLS)", null);
        }
        String configured = properties.role();
        String role = configured != null ? configured : service.name();
        PostgresMtlsDataSource.Builder builder = PostgresMtlsDataSource.builder().jdbcUrl(url).role(role)
                .credentials(credentials).auditLog(audit).poolName("zerotrust-postgres");
        try {
            String expectedServer = properties.expectedServer();
            if (expectedServer != null) {
                builder.expectedServer(expectedServer);
            }
            builder.maximumPoolSize(properties.maximumPoolSize()).connectionTimeout(properties.connectionTimeout())
                    .maxLifetime(properties.maxLifetime());
            Integer minimumIdle = properties.minimumIdle();
            if (minimumIdle != null) {
                builder.minimumIdle(minimumIdle);
            }
            Duration statementTimeout = properties.statementTimeout();
            if (statementTimeout != null) {
                builder.statementTimeout(statementTimeout);
            }
            if (properties.readOnly()) {
                builder.readOnly();
            }
            return builder.build();
        } catch (InsecureDataSourceException e) {
            throw checks.refuse(e.reason() == InsecureDataSourceException.Reason.PLAINTEXT
                            ? ZeroTrustConfigurationException.Reason.PLAINTEXT_CLIENT
                            : ZeroTrustConfigurationException.Reason.INSECURE_DATA_STORE,
                    setting(e.reason()), "PostgreSQL refused (" + e.reason() + "): " + e.getMessage(), e);
        } catch (IllegalArgumentException e) {
            throw checks.refuse(ZeroTrustConfigurationException.Reason.INSECURE_DATA_STORE, PREFIX,
                    "a " + PREFIX + " setting is invalid: " + e.getMessage(), e);
        }
    }

    /** The property that decides what the data source refused. */
    static String setting(InsecureDataSourceException.Reason reason) {
        switch (reason) {
            case CERTIFICATE_NAME:
                return "zerotrust.credentials.certificate";
            case ROLE_PRIVILEGES:
                return PREFIX + ".role";
            case NOT_READ_ONLY:
                return PREFIX + ".read-only";
            default: // the URL's parameters, the server it names, and what it proves
                return PREFIX + ".url";
        }
    }

    /** Tenant-scoped transactions for code that names its tenant itself (jobs, consumers). */
    @Bean
    @ConditionalOnMissingBean
    TenantScope zeroTrustTenantScope(PostgresMtlsDataSource dataSource) {
        return TenantScope.of(dataSource);
    }

    /** Each Spring transaction a tenant scope for the tenant claim of the caller's service token. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(name = {"org.springframework.jdbc.datasource.ConnectionHolder",
            "org.springframework.security.core.context.SecurityContextHolder"})
    static class Tenants {

        @Bean
        @ConditionalOnMissingBean(TransactionManager.class)
        TenantTransactionManager transactionManager(PostgresMtlsDataSource dataSource,
                                                    ZeroTrustPostgresProperties properties, AuditLog audit) {
            return new TenantTransactionManager(dataSource, properties.tenantClaim(), audit);
        }
    }

    /** Actuator's {@code zerotrustPostgres} component: the pool's TLS proof on a live connection. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(name = "org.springframework.boot.health.contributor.HealthIndicator")
    @ConditionalOnEnabledHealthIndicator("zerotrust-postgres")
    static class Health {

        @Bean
        HealthIndicator zerotrustPostgresHealthIndicator(PostgresMtlsDataSource dataSource,
                                                         CredentialSource credentials) {
            return new PostgresHealthIndicator(dataSource, credentials);
        }
    }

    /** Any {@code zerotrust.postgres.*} property set. */
    static final class OnPostgresSettings extends OnSettings {
        OnPostgresSettings() {
            super(PREFIX);
        }
    }
}
