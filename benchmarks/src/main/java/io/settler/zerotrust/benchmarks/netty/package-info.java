/** Netty benchmarks: requests through our pipeline against a plain Netty TLS server. */
@NullMarked
package io.settler.zerotrust.benchmarks.netty;

import org.jspecify.annotations.NullMarked;
