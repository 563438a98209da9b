package io.settler.zerotrust.tls;

import java.util.Locale;

/**
 * Names a handshake failure that the TLS stack raised before our verification ran, for audit
 * events. Neither the JDK nor BoringSSL (Netty's OpenSSL provider) gives a structured reason, only
 * a message (stable across JDK 17 to 25, and BoringSSL's upper-case reason codes, for these).
 */
final class HandshakeRefusal {

    private HandshakeRefusal() {
    }

    static String classify(Throwable e) {
        String message = String.valueOf(e.getMessage()).toLowerCase(Locale.ROOT);
        if (message.contains("empty client certificate chain") || message.contains("certificate_required")
                || message.contains("bad_certificate") || message.contains("peer_did_not_return_a_certificate")) {
            return "NO_CERTIFICATE";
        }
        if (message.contains("protocol") && (message.contains("not enabled") || message.contains("not supported")
                || message.contains("not accepted")
                || message.contains("protocol_version") || message.contains("unsupported_protocol"))) {
            return "PROTOCOL_VERSION";
        }
        if (message.contains("cipher suite") || message.contains("handshake_failure")
                || message.contains("no_shared_cipher")) {
            return "NO_COMMON_CIPHER_SUITE";
        }
        if (message.contains("plaintext") || message.contains("unrecognized ssl message")
                || message.contains("wrong_version_number") || message.contains("http_request")) {
            return "NOT_TLS";
        }
        return "HANDSHAKE_FAILED";
    }
}
