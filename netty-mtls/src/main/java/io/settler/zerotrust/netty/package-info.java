/**
 * Netty {@code SslContext}s and pipeline handlers built on {@code core}: mTLS, peer identity,
 * source networks, service-token authentication and rate limiting.
 *
 * <p>Not implemented yet: this module is filled in by the netty-mtls issue.
 */
package io.settler.zerotrust.netty;
