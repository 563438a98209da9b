/**
 * A hardened HikariCP + PostgreSQL data source: verify-full mutual TLS 1.3 with our own
 * {@code SSLContext} ({@link io.settler.zerotrust.jdbc.PostgresMtlsDataSource}), tenant isolation
 * with row-level security ({@link io.settler.zerotrust.jdbc.TenantScope}), and server-side
 * configuration rendered from the policy.
 */
@NullMarked
package io.settler.zerotrust.jdbc;

import org.jspecify.annotations.NullMarked;
