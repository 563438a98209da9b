package io.settler.zerotrust.spring;

import java.time.Duration;
import org.jspecify.annotations.Nullable;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * The {@code zerotrust.postgres.*} settings: a jdbc-mtls {@code PostgresMtlsDataSource} on this
 * service's rotating credentials, and tenant transactions from the callers' service tokens.
 *
 * <pre>{@code
 * zerotrust:
 *   postgres:
 *     url: jdbc:postgresql://db.internal:5432/orders   # verify-full mutual TLS 1.3, always
 *     # role: api                                      # default: zerotrust.service
 *     # tenant-claim: tenant                           # the token claim applied to each transaction
 * }</pre>
 *
 * <p>There is no user name, password, key file or {@code sslmode} to set: the client certificate
 * and the trust anchors are the service's ({@code zerotrust.credentials}), and any URL parameter that
 * would weaken verify-full mutual TLS stops the start.
 *
 * @param url the database, {@code jdbc:postgresql://host:port/database}, with at most jdbc-mtls's harmless
 *     tuning parameters (e.g. {@code ?ApplicationName=api}); {@code sslmode} other than {@code verify-full},
 *     {@code ssl=false}, key files, passwords and socket factories are refused
 * @param role the role to log in as, which the server maps the client certificate to; default
 *     {@code zerotrust.service} (as PostgresServerConfig renders pg_ident.conf)
 * @param expectedServer the name the server certificate must prove (DNS name, IP address or SPIFFE ID);
 *     default the URL's host
 * @param maximumPoolSize the most connections the pool holds
 * @param minimumIdle idle connections kept ready; default the maximum pool size (a fixed pool)
 * @param connectionTimeout how long a borrower waits for a connection, and opening one may take
 * @param maxLifetime how long a connection lives; capped to end a minute before the certificate expires
 * @param statementTimeout a server-side statement timeout for every session; default none
 * @param readOnly a read-only pool: the server must prove the role cannot write
 * @param tenantClaim the service token claim whose value is the tenant of each transaction
 *     ({@code app.tenant_id} for row-level security)
 */
@ConfigurationProperties("zerotrust.postgres")
public record ZeroTrustPostgresProperties(@Nullable String url, @Nullable String role, @Nullable String expectedServer,
                                          @DefaultValue("8") int maximumPoolSize, @Nullable Integer minimumIdle,
                                          @DefaultValue("30s") Duration connectionTimeout,
                                          @DefaultValue("30m") Duration maxLifetime,
                                          @Nullable Duration statementTimeout,
                                          @DefaultValue("false") boolean readOnly,
                                          @DefaultValue("tenant") String tenantClaim) {
}
