/**
 * Netty {@code SslContext}s and pipeline handlers built on {@code core}: mTLS on the JDK or the
 * OpenSSL provider ({@link io.settler.zerotrust.netty.NettyMtls}) with connection timeouts and caps
 * ({@link io.settler.zerotrust.netty.ConnectionLimits}), peer identity, source networks,
 * per-peer rate limiting, service-token authentication per route
 * ({@link io.settler.zerotrust.netty.ServiceTokenAuthHandler} with
 * {@link io.settler.zerotrust.netty.RouteScopes}), closing expired or revoked connections, and an
 * mTLS HTTP client that can attach service tokens, only for the service that proves their audience
 * ({@link io.settler.zerotrust.netty.BearerTokens}).
 */
@NullMarked
package io.settler.zerotrust.netty;

import org.jspecify.annotations.NullMarked;
