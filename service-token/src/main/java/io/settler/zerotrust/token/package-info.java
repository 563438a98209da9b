/**
 * Scoped service tokens: short-lived JWTs a service mints for one peer ({@link
 * io.settler.zerotrust.token.ServiceTokens#mint}) and the peer verifies strictly on every request
 * ({@link io.settler.zerotrust.token.ServiceTokens#verify}).
 *
 * <p>Public: {@link io.settler.zerotrust.token.ServiceTokens}, {@link io.settler.zerotrust.token.TokenRequest},
 * {@link io.settler.zerotrust.token.VerifiedToken}, {@link io.settler.zerotrust.token.TokenRejectedException},
 * the keys ({@link io.settler.zerotrust.token.TokenKey}, {@link io.settler.zerotrust.token.KeySet},
 * {@link io.settler.zerotrust.token.JwksSource}), replay protection
 * ({@link io.settler.zerotrust.token.ReplayGuard}) and the caller-side
 * {@link io.settler.zerotrust.token.TokenSource}. Everything else is package-private.
 */
@NullMarked
package io.settler.zerotrust.token;

import org.jspecify.annotations.NullMarked;
