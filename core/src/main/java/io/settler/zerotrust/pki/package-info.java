/**
 * A development public-key infrastructure: {@link io.settler.zerotrust.pki.DevCertificateAuthority}
 * issues service certificates (and deliberately broken ones) for tests, demos and local runs.
 * Never use it to issue production credentials.
 */
@NullMarked
package io.settler.zerotrust.pki;

import org.jspecify.annotations.NullMarked;
