/**
 * Scoped service tokens: {@code ServiceTokens.mint(...)} and {@code ServiceTokens.verify(...)}.
 *
 * <p>Not implemented yet: this module is filled in by the service-token issue. It holds no
 * classes until then, so nothing here can be mistaken for working code.
 */
package io.settler.zerotrust.token;
