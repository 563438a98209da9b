package io.settler.zerotrust.jdbc;

import io.settler.zerotrust.audit.AuditEvent;
import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketException;
import java.time.Instant;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.net.SocketFactory;

/**
 * The plain socket factory pgjdbc instantiates by class name ({@code socketFactory}) once per
 * connection. It opens that connection's one TCP socket, which pgjdbc then upgrades to TLS, and
 * refuses any later socket: the only later one pgjdbc asks for is a query-cancel request, which it
 * sends in cleartext (carrying the backend's secret cancel key) outside TLS and outside
 * {@code pg_hba.conf}. pgjdbc ignores the failure, so {@code Statement.cancel()} and
 * {@code setQueryTimeout} do nothing; use the server-side {@code statement_timeout} instead
 * ({@link PostgresMtlsDataSource.Builder#statementTimeout}). Not for direct use.
 */
public final class SingleConnectionSocketFactory extends SocketFactory {

    private final String key;
    private final AtomicBoolean used = new AtomicBoolean();

    /**
     * Called by pgjdbc with the connection's properties.
     *
     * @param properties the connection properties; {@code socketFactoryArg} names the data source
     */
    public SingleConnectionSocketFactory(Properties properties) {
        this.key = properties.getProperty("socketFactoryArg");
    }

    private void claim() throws SocketException {
        if (used.compareAndSet(false, true)) {
            return;
        }
        DriverRegistry.lookup(key).ifPresent(entry -> entry.audit().record(
                AuditEvent.builder(Instant.now(), "jdbc.cancel_refused", AuditEvent.Outcome.REFUSED)
                        .field("pool", entry.pool())
                        .field("reason", "pgjdbc sends query-cancel requests in cleartext")
                        .build()));
        throw new SocketException("refused: pgjdbc would send this query-cancel request in cleartext;"
                + " use statement_timeout on the server instead");
    }

    @Override
    public Socket createSocket() throws IOException {
        claim();
        return new Socket();
    }

    @Override
    public Socket createSocket(String host, int port) throws IOException {
        claim();
        return new Socket(host, port);
    }

    @Override
    public Socket createSocket(String host, int port, InetAddress localHost, int localPort) throws IOException {
        claim();
        return new Socket(host, port, localHost, localPort);
    }

    @Override
    public Socket createSocket(InetAddress host, int port) throws IOException {
        claim();
        return new Socket(host, port);
    }

    @Override
    public Socket createSocket(InetAddress address, int port, InetAddress localAddress, int localPort)
            throws IOException {
        claim();
        return new Socket(address, port, localAddress, localPort);
    }
}
