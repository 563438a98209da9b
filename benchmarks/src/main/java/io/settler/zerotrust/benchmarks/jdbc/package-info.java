/** PostgreSQL pools: our verify-full mTLS data source and tenant scopes against plain HikariCP + pgjdbc. */
@NullMarked
package io.settler.zerotrust.benchmarks.jdbc;

import org.jspecify.annotations.NullMarked;
