/** Netty benchmarks: requests through our pipeline against a plain Netty TLS server. */
package io.settler.zerotrust.benchmarks.netty;
