/**
 * Netty {@code SslContext}s and pipeline handlers built on {@code core}: mTLS on the JDK or the
 * OpenSSL provider ({@link io.settler.zerotrust.netty.NettyMtls}), peer identity, source networks,
 * per-peer rate limiting, closing expired or revoked connections, and an mTLS HTTP client.
 *
 * <p>Service-token authentication lands with the {@code service-token} module; its route table,
 * {@link io.settler.zerotrust.netty.RouteScopes}, is here.
 */
package io.settler.zerotrust.netty;
