package io.settler.zerotrust.tls;

import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.util.Base64;
import java.util.List;
import java.util.Objects;

/**
 * Renders a CA certificate as an OpenSSL {@code TRUSTED CERTIFICATE} that OpenSSL trusts for
 * client authentication only (trust {@code clientAuth}, reject {@code serverAuth}), what
 * {@code openssl x509 -addtrust clientAuth -addreject serverAuth} writes. A server that loads it in
 * its CA file accepts that CA's certificates from TLS clients, but refuses them from any TLS server
 * it connects to: for Redis Cluster, a service certificate can log in to a node's client port, but
 * no node completes a cluster bus or replication connection to a server presenting one.
 * Stateless.
 */
public final class ClientAuthOnlyTrust {

    /**
     * OpenSSL's {@code X509_CERT_AUX}: {@code SEQUENCE { trust SEQUENCE { id-kp-clientAuth },
     * reject [0] IMPLICIT SEQUENCE { id-kp-serverAuth } }}, appended to the certificate's DER.
     */
    private static final byte[] AUX = {
        0x30, 0x18,
        0x30, 0x0a, 0x06, 0x08, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x02,
        (byte) 0xa0, 0x0a, 0x06, 0x08, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x01,
    };

    private ClientAuthOnlyTrust() {
    }

    /**
     * An OpenSSL CA file: {@code trusted} as plain certificates (trusted for every purpose), then
     * {@code clientsOnly} as {@link #pem(X509Certificate) client-only} trusted certificates.
     *
     * @param trusted CA certificates trusted for everything
     * @param clientsOnly CA certificates trusted for TLS clients only
     * @return the PEM file's content
     */
    public static String bundle(List<X509Certificate> trusted, List<X509Certificate> clientsOnly) {
        StringBuilder pem = new StringBuilder();
        trusted.forEach(ca -> pem.append(block("CERTIFICATE", der(ca))));
        clientsOnly.forEach(ca -> pem.append(pem(ca)));
        return pem.toString();
    }

    /**
     * The CA certificate as a PEM {@code TRUSTED CERTIFICATE} block, trusted by OpenSSL for
     * client authentication only. Java does not read this format; it is for OpenSSL servers.
     *
     * @param ca the CA certificate (usually a root)
     * @return the PEM block, ending in a line break
     */
    public static String pem(X509Certificate ca) {
        byte[] der = der(ca);
        byte[] trusted = new byte[der.length + AUX.length];
        System.arraycopy(der, 0, trusted, 0, der.length);
        System.arraycopy(AUX, 0, trusted, der.length, AUX.length);
        return block("TRUSTED CERTIFICATE", trusted);
    }

    private static byte[] der(X509Certificate ca) {
        Objects.requireNonNull(ca, "ca");
        try {
            return ca.getEncoded();
        } catch (CertificateEncodingException e) {
            throw new IllegalArgumentException("the CA certificate cannot be encoded", e);
        }
    }

    private static String block(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der)
                + "\n-----END " + type + "-----\n";
    }
}
