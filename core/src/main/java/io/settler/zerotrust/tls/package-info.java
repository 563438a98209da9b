/**
 * JDK mutual-TLS contexts for servers and clients, built from a credential source: every peer's
 * chain is verified and authorized by this library, and sessions are never resumed.
 *
 * <p>Start with {@link io.settler.zerotrust.tls.MtlsContext}.
 */
@NullMarked
package io.settler.zerotrust.tls;

import org.jspecify.annotations.NullMarked;
