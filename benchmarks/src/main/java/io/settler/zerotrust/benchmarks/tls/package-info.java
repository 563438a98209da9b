/** TLS handshake benchmarks: our mTLS contexts against hand-built JDK contexts. */
package io.settler.zerotrust.benchmarks.tls;
