/** TLS benchmarks: our mTLS contexts against hand-built JDK contexts, and Netty's JDK against its OpenSSL provider. */
package io.settler.zerotrust.benchmarks.tls;
