package io.settler.zerotrust.tls;

import java.util.Locale;
import javax.net.ssl.SSLException;

/**
 * Names a handshake failure that the JDK raised before our verification ran, for audit events.
 * The JDK gives no structured reason, only its message (stable across JDK 17 to 25 for these).
 */
final class HandshakeRefusal {

    private HandshakeRefusal() {
    }

    static String classify(SSLException e) {
        String message = String.valueOf(e.getMessage()).toLowerCase(Locale.ROOT);
        if (message.contains("empty client certificate chain") || message.contains("certificate_required")
                || message.contains("bad_certificate")) {
            return "NO_CERTIFICATE";
        }
        if (message.contains("protocol") && (message.contains("not enabled") || message.contains("not supported")
                || message.contains("not accepted")
                || message.contains("protocol_version"))) {
            return "PROTOCOL_VERSION";
        }
        if (message.contains("cipher suite") || message.contains("handshake_failure")) {
            return "NO_COMMON_CIPHER_SUITE";
        }
        if (message.contains("plaintext") || message.contains("unrecognized ssl message")) {
            return "NOT_TLS";
        }
        return "HANDSHAKE_FAILED";
    }
}
