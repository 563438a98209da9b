/** PostgreSQL pools: our verify-full mTLS data source and tenant scopes against plain HikariCP + pgjdbc. */
package io.settler.zerotrust.benchmarks.jdbc;
