/**
 * A hardened HikariCP + PostgreSQL data source: verify-full mTLS with our own
 * {@code SSLContext}, and tenant isolation with row-level security.
 *
 * <p>Not implemented yet: this module is filled in by the jdbc-mtls issue.
 */
package io.settler.zerotrust.jdbc;
