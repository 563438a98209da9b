/**
 * Peer certificate verification outside a TLS handshake: certification path building and PKIX
 * validation against a set of trust anchors at the time of an injectable clock, a strict
 * certificate profile on top of the JDK's RFC 5280 checks (no weak algorithms or keys, extended
 * key usage on the leaf and the CAs, name constraints, no common-name fallback), and extraction of
 * the peer's identity for an authorizer.
 *
 * <p>Start with {@link io.settler.zerotrust.trust.PeerCertificateVerifier}.
 */
@NullMarked
package io.settler.zerotrust.trust;

import org.jspecify.annotations.NullMarked;
