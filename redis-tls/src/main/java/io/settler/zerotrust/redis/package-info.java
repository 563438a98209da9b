/**
 * A hardened Lettuce client for Redis: TLS 1.3 with full peer verification by core's trust
 * manager, a client certificate from a rotating credential source, ACL credentials read on every
 * (re)connect, safe client options, and a proof after connecting ({@link
 * io.settler.zerotrust.redis.HardenedRedis}).
 */
@NullMarked
package io.settler.zerotrust.redis;

import org.jspecify.annotations.NullMarked;
