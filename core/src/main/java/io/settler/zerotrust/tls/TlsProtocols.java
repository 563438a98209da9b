package io.settler.zerotrust.tls;

import java.util.List;
import java.util.stream.Stream;

/** The protocols and cipher suites we enable, explicitly: never the JDK's defaults. */
final class TlsProtocols {

    static final String TLS13 = "TLSv1.3";
    static final String TLS12 = "TLSv1.2";

    /** TLS 1.3 suites: all AEAD, the only ones TLS 1.3 defines for general use. */
    static final List<String> TLS13_SUITES = List.of(
            "TLS_AES_256_GCM_SHA384", "TLS_AES_128_GCM_SHA256", "TLS_CHACHA20_POLY1305_SHA256");

    /** TLS 1.2 suites when explicitly allowed: forward-secret ECDHE with AEAD only. */
    static final List<String> TLS12_SUITES = List.of(
            "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
            "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
            "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
            "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256");

    private TlsProtocols() {
    }

    static String[] protocols(boolean allowTls12) {
        return allowTls12 ? new String[] {TLS13, TLS12} : new String[] {TLS13};
    }

    static String[] cipherSuites(boolean allowTls12) {
        return (allowTls12 ? Stream.concat(TLS13_SUITES.stream(), TLS12_SUITES.stream()) : TLS13_SUITES.stream())
                .toArray(String[]::new);
    }
}
