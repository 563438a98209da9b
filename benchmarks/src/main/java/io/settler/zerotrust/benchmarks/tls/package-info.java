/**
 * TLS benchmarks: our mTLS contexts against hand-built JDK contexts, Netty's JDK against its OpenSSL
 * provider, and what a hostile client's chain costs a server against a valid handshake.
 */
@NullMarked
package io.settler.zerotrust.benchmarks.tls;

import org.jspecify.annotations.NullMarked;
