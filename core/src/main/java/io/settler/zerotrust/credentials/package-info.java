/**
 * Credentials a service presents and trusts: a {@link io.settler.zerotrust.credentials.TlsIdentity}
 * (leaf certificate, chain and private key) and a {@link io.settler.zerotrust.credentials.TrustBundle}
 * (the CA certificates it trusts), loaded from PEM or PKCS#12 and checked at load time.
 *
 * <p>Every failure is a {@link io.settler.zerotrust.credentials.CredentialException} with a
 * {@link io.settler.zerotrust.credentials.CredentialException.Reason reason} and a message that names
 * the file, what was found in it and what to do. No message, log line or {@code toString()} ever
 * holds key material or a password.
 */
@NullMarked
package io.settler.zerotrust.credentials;

import org.jspecify.annotations.NullMarked;
