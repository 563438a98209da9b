/** Redis benchmarks: our hardened Lettuce client against a plain Lettuce TLS client on the same server. */
package io.settler.zerotrust.benchmarks.redis;
