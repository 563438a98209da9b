package io.settler.zerotrust.jdbc;

import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.util.Properties;
import javax.net.ssl.SSLSocketFactory;

/**
 * The SSL socket factory pgjdbc instantiates by class name ({@code sslfactory}); it delegates to
 * the {@code SSLContext} of the {@link PostgresMtlsDataSource} named by {@code sslfactoryarg}
 * (TLS 1.3 only, our client certificate, our server verification). Not for direct use: a name it
 * does not know, such as one of a closed data source, fails every connection.
 */
public final class MtlsSslSocketFactory extends SSLSocketFactory {

    private final SSLSocketFactory delegate;

    /**
     * Called by pgjdbc with the connection's properties.
     *
     * @param properties the connection properties; {@code sslfactoryarg} names the data source
     * @throws IllegalStateException if no open data source has that name
     */
    public MtlsSslSocketFactory(Properties properties) {
        String key = properties.getProperty("sslfactoryarg");
        this.delegate = DriverRegistry.lookup(key).orElseThrow(() -> new IllegalStateException(
                "no open PostgresMtlsDataSource is registered under sslfactoryarg; connections of a closed"
                        + " data source, or made outside one, are refused")).sslSocketFactory();
    }

    @Override
    public String[] getDefaultCipherSuites() {
        return delegate.getDefaultCipherSuites();
    }

    @Override
    public String[] getSupportedCipherSuites() {
        return delegate.getSupportedCipherSuites();
    }

    @Override
    public Socket createSocket(Socket socket, String host, int port, boolean autoClose) throws IOException {
        return delegate.createSocket(socket, host, port, autoClose);
    }

    @Override
    public Socket createSocket(String host, int port) throws IOException {
        return delegate.createSocket(host, port);
    }

    @Override
    public Socket createSocket(String host, int port, InetAddress localHost, int localPort) throws IOException {
        return delegate.createSocket(host, port, localHost, localPort);
    }

    @Override
    public Socket createSocket(InetAddress host, int port) throws IOException {
        return delegate.createSocket(host, port);
    }

    @Override
    public Socket createSocket(InetAddress address, int port, InetAddress localAddress, int localPort)
            throws IOException {
        return delegate.createSocket(address, port, localAddress, localPort);
    }
}
