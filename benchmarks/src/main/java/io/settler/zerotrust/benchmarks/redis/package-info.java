/** Redis benchmarks: our hardened Lettuce client against a plain Lettuce TLS client on the same server. */
@NullMarked
package io.settler.zerotrust.benchmarks.redis;

import org.jspecify.annotations.NullMarked;
