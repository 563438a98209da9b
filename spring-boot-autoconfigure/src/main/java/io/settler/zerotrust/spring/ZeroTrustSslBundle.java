package io.settler.zerotrust.spring;

import io.settler.zerotrust.credentials.CredentialSnapshot;
import io.settler.zerotrust.tls.MtlsContext;
import java.security.KeyStore;
import java.security.Provider;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.KeyManagerFactorySpi;
import javax.net.ssl.ManagerFactoryParameters;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.TrustManagerFactorySpi;
import org.springframework.boot.ssl.SslBundle;
import org.springframework.boot.ssl.SslBundleKey;
import org.springframework.boot.ssl.SslManagerBundle;
import org.springframework.boot.ssl.SslOptions;
import org.springframework.boot.ssl.SslStoreBundle;
import org.springframework.boot.ssl.pem.PemSslStore;
import org.springframework.boot.ssl.pem.PemSslStoreBundle;

/**
 * One credential snapshot as a Boot {@link SslBundle}: its stores hold the snapshot's key, chain
 * and trust anchors (for code that reads stores), and its managers are the library's: the
 * rotation-aware key manager and the verifying, authorizing trust manager of the
 * {@link MtlsContext}, whose {@code SSLContext} {@link SslManagerBundle#createSslContext} returns
 * whatever protocol is asked (TLS 1.3 only, client certificates required, no resumption).
 */
final class ZeroTrustSslBundle implements SslBundle {

    static final String KEY_ALIAS = "zerotrust";

    private final SslStoreBundle stores;
    private final SslOptions options;
    private final SslManagerBundle managers;

    ZeroTrustSslBundle(CredentialSnapshot snapshot, MtlsContext context) {
        this.stores = new PemSslStoreBundle(
                PemSslStore.of(null, KEY_ALIAS, null, snapshot.identity().chain(), snapshot.identity().privateKey()),
                PemSslStore.of(null, snapshot.trust().anchors(), null));
        this.options = SslOptions.of(context.sslParameters().getCipherSuites(), context.sslParameters().getProtocols());
        this.managers = new Managers(context);
    }

    @Override
    public SslStoreBundle getStores() {
        return stores;
    }

    @Override
    public SslBundleKey getKey() {
        return SslBundleKey.of(null, KEY_ALIAS);
    }

    @Override
    public SslOptions getOptions() {
        return options;
    }

    @Override
    public String getProtocol() {
        return "TLSv1.3";
    }

    @Override
    public SslManagerBundle getManagers() {
        return managers;
    }

    @Override
    public String toString() {
        return "ZeroTrustSslBundle[" + KEY_ALIAS + ", protocols=" + String.join(",", options.getEnabledProtocols())
                + "]";
    }

    /** The library's managers, and its context for any protocol asked. */
    private static final class Managers implements SslManagerBundle {
        private final MtlsContext context;

        Managers(MtlsContext context) {
            this.context = context;
        }

        @Override
        public KeyManagerFactory getKeyManagerFactory() {
            return new FixedKeyManagerFactory(context.keyManager());
        }

        @Override
        public TrustManagerFactory getTrustManagerFactory() {
            return new FixedTrustManagerFactory(context.trustManager());
        }

        @Override
        public SSLContext createSslContext(String protocol) {
            return context.sslContext();
        }
    }

    /** A key manager factory that hands out one key manager, initialized or not. */
    private static final class FixedKeyManagerFactory extends KeyManagerFactory {
        FixedKeyManagerFactory(KeyManager keyManager) {
            super(new KeyManagerFactorySpi() {
                @Override
                protected void engineInit(KeyStore keyStore, char[] password) {
                    // the key manager reads the credential source itself
                }

                @Override
                protected void engineInit(ManagerFactoryParameters parameters) {
                    // as above
                }

                @Override
                protected KeyManager[] engineGetKeyManagers() {
                    return new KeyManager[] {keyManager};
                }
            }, provider(), "zerotrust");
        }
    }

    /** A trust manager factory that hands out one trust manager, initialized or not. */
    private static final class FixedTrustManagerFactory extends TrustManagerFactory {
        FixedTrustManagerFactory(TrustManager trustManager) {
            super(new TrustManagerFactorySpi() {
                @Override
                protected void engineInit(KeyStore keyStore) {
                    // the trust manager reads the credential source itself
                }

                @Override
                protected void engineInit(ManagerFactoryParameters parameters) {
                    // as above
                }

                @Override
                protected TrustManager[] engineGetTrustManagers() {
                    return new TrustManager[] {trustManager};
                }
            }, provider(), "zerotrust");
        }
    }

    /** A factory's provider: the factories are not registered with the JCA, and nothing looks them up. */
    private static Provider provider() {
        return new Provider("zerotrust", "1", "the library's own managers") {
            private static final long serialVersionUID = 1L;
        };
    }

}
