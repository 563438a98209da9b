package io.settler.zerotrust.tls;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.security.KeyManagementException;
import java.security.SecureRandom;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLContextSpi;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLServerSocketFactory;
import javax.net.ssl.SSLSessionContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManager;

/**
 * An {@link SSLContext} that applies our {@link SSLParameters} to every engine and socket it
 * creates, so code that takes the context and ignores the parameters (a driver, a framework) still
 * gets TLS 1.3, our suites and required client authentication rather than the JDK's defaults.
 * Each engine and client socket also refuses to resume any session
 * ({@link SessionResumption#refuseResumption(SSLParameters)}); sockets accepted by a server socket
 * get that from {@link MtlsContext#handshake}.
 */
final class EnforcingSslContext extends SSLContext {

    EnforcingSslContext(SSLContext delegate, SSLParameters parameters) {
        super(new Spi(delegate, parameters), delegate.getProvider(), delegate.getProtocol());
    }

    private static SSLParameters copy(SSLParameters parameters) {
        SSLParameters copy = new SSLParameters(parameters.getCipherSuites(), parameters.getProtocols());
        copy.setNeedClientAuth(parameters.getNeedClientAuth());
        copy.setEndpointIdentificationAlgorithm(parameters.getEndpointIdentificationAlgorithm());
        copy.setUseCipherSuitesOrder(parameters.getUseCipherSuitesOrder());
        if (parameters.getServerNames() != null) {
            copy.setServerNames(parameters.getServerNames());
        }
        return copy;
    }

    private static final class Spi extends SSLContextSpi {
        private final SSLContext delegate;
        private final SSLParameters parameters;

        Spi(SSLContext delegate, SSLParameters parameters) {
            this.delegate = delegate;
            this.parameters = copy(parameters);
        }

        @Override
        protected void engineInit(KeyManager[] km, TrustManager[] tm, SecureRandom random)
                throws KeyManagementException {
            throw new KeyManagementException("this context is already initialized with its own key and trust managers");
        }

        @Override
        protected SSLSocketFactory engineGetSocketFactory() {
            return new EnforcingSocketFactory(delegate.getSocketFactory(), parameters);
        }

        @Override
        protected SSLServerSocketFactory engineGetServerSocketFactory() {
            return new EnforcingServerSocketFactory(delegate.getServerSocketFactory(), parameters);
        }

        @Override
        protected SSLEngine engineCreateSSLEngine() {
            return apply(delegate.createSSLEngine());
        }

        @Override
        protected SSLEngine engineCreateSSLEngine(String host, int port) {
            return apply(delegate.createSSLEngine(host, port));
        }

        @Override
        protected SSLSessionContext engineGetServerSessionContext() {
            return delegate.getServerSessionContext();
        }

        @Override
        protected SSLSessionContext engineGetClientSessionContext() {
            return delegate.getClientSessionContext();
        }

        @Override
        protected SSLParameters engineGetDefaultSSLParameters() {
            return copy(parameters);
        }

        @Override
        protected SSLParameters engineGetSupportedSSLParameters() {
            return copy(parameters);
        }

        private SSLEngine apply(SSLEngine engine) {
            engine.setSSLParameters(SessionResumption.refuseResumption(copy(parameters)));
            return engine;
        }
    }

    private static final class EnforcingSocketFactory extends SSLSocketFactory {
        private final SSLSocketFactory delegate;
        private final SSLParameters parameters;

        EnforcingSocketFactory(SSLSocketFactory delegate, SSLParameters parameters) {
            this.delegate = delegate;
            this.parameters = parameters;
        }

        private Socket apply(Socket socket) {
            ((SSLSocket) socket).setSSLParameters(SessionResumption.refuseResumption(copy(parameters)));
            return socket;
        }

        @Override
        public String[] getDefaultCipherSuites() {
            return parameters.getCipherSuites().clone();
        }

        @Override
        public String[] getSupportedCipherSuites() {
            return parameters.getCipherSuites().clone();
        }

        @Override
        public Socket createSocket() throws IOException {
            return apply(delegate.createSocket());
        }

        @Override
        public Socket createSocket(Socket s, String host, int port, boolean autoClose) throws IOException {
            return apply(delegate.createSocket(s, host, port, autoClose));
        }

        @Override
        public Socket createSocket(String host, int port) throws IOException {
            return apply(delegate.createSocket(host, port));
        }

        @Override
        public Socket createSocket(String host, int port, InetAddress localHost, int localPort) throws IOException {
            return apply(delegate.createSocket(host, port, localHost, localPort));
        }

        @Override
        public Socket createSocket(InetAddress host, int port) throws IOException {
            return apply(delegate.createSocket(host, port));
        }

        @Override
        public Socket createSocket(InetAddress address, int port, InetAddress localAddress, int localPort)
                throws IOException {
            return apply(delegate.createSocket(address, port, localAddress, localPort));
        }
    }

    private static final class EnforcingServerSocketFactory extends SSLServerSocketFactory {
        private final SSLServerSocketFactory delegate;
        private final SSLParameters parameters;

        EnforcingServerSocketFactory(SSLServerSocketFactory delegate, SSLParameters parameters) {
            this.delegate = delegate;
            this.parameters = parameters;
        }

        private ServerSocket apply(ServerSocket socket) {
            ((SSLServerSocket) socket).setSSLParameters(copy(parameters));
            return socket;
        }

        @Override
        public String[] getDefaultCipherSuites() {
            return parameters.getCipherSuites().clone();
        }

        @Override
        public String[] getSupportedCipherSuites() {
            return parameters.getCipherSuites().clone();
        }

        @Override
        public ServerSocket createServerSocket() throws IOException {
            return apply(delegate.createServerSocket());
        }

        @Override
        public ServerSocket createServerSocket(int port) throws IOException {
            return apply(delegate.createServerSocket(port));
        }

        @Override
        public ServerSocket createServerSocket(int port, int backlog) throws IOException {
            return apply(delegate.createServerSocket(port, backlog));
        }

        @Override
        public ServerSocket createServerSocket(int port, int backlog, InetAddress ifAddress) throws IOException {
            return apply(delegate.createServerSocket(port, backlog, ifAddress));
        }
    }
}
