package io.settler.zerotrust.jdbc;

import io.settler.zerotrust.audit.AuditEvent;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.time.Instant;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.net.SocketFactory;
import org.jspecify.annotations.Nullable;

/**
 * The plain socket factory pgjdbc instantiates by class name ({@code socketFactory}) once per
 * connection. It opens that connection's one TCP socket, which pgjdbc then upgrades to TLS, and
 * refuses any later socket: the only later one pgjdbc asks for is a query-cancel request, which it
 * sends in cleartext (carrying the backend's secret cancel key) outside TLS and outside
 * {@code pg_hba.conf}. pgjdbc ignores the failure, so {@code Statement.cancel()} and
 * {@code setQueryTimeout} do nothing; use the server-side {@code statement_timeout} instead
 * ({@link PostgresMtlsDataSource.Builder#statementTimeout}).
 *
 * <p>A read on the socket that waits longer than its timeout (pgjdbc's {@code socketTimeout}, which
 * the data source always sets) fails with a {@link PostgresTimeoutException} naming the bound, and
 * records a {@code jdbc.timeout} audit event. Not for direct use.
 */
public final class SingleConnectionSocketFactory extends SocketFactory {

    private final String key;
    private final String socketTimeoutSeconds;
    private final AtomicBoolean used = new AtomicBoolean();

    /**
     * Called by pgjdbc with the connection's properties.
     *
     * @param properties the connection properties; {@code socketFactoryArg} names the data source
     */
    public SingleConnectionSocketFactory(Properties properties) {
        this.key = properties.getProperty("socketFactoryArg");
        this.socketTimeoutSeconds = properties.getProperty("socketTimeout", "unset");
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
        return new TimeoutReportingSocket();
    }

    @Override
    public Socket createSocket(String host, int port) throws IOException {
        return createSocket(InetAddress.getByName(host), port);
    }

    @Override
    public Socket createSocket(String host, int port, InetAddress localHost, int localPort) throws IOException {
        return createSocket(InetAddress.getByName(host), port, localHost, localPort);
    }

    @Override
    public Socket createSocket(InetAddress host, int port) throws IOException {
        Socket socket = createSocket();
        socket.connect(new InetSocketAddress(host, port));
        return socket;
    }

    @Override
    public Socket createSocket(InetAddress address, int port, InetAddress localAddress, int localPort)
            throws IOException {
        Socket socket = createSocket();
        socket.bind(new InetSocketAddress(localAddress, localPort));
        socket.connect(new InetSocketAddress(address, port));
        return socket;
    }

    /** What to tell the caller, and the audit log, when a read hits its timeout. */
    private PostgresTimeoutException timedOut(Socket socket, SocketTimeoutException e) {
        int millis;
        try {
            millis = socket.getSoTimeout();
        } catch (SocketException closed) {
            millis = -1;
        }
        Duration bound = Duration.ofMillis(Math.max(millis, 0));
        String pool = DriverRegistry.lookup(key).map(DriverRegistry.Entry::pool).orElse("closed pool");
        PostgresTimeoutException timeout = new PostgresTimeoutException("PostgreSQL at "
                + socket.getRemoteSocketAddress() + " sent nothing for " + bound.toMillis() + " ms (pool " + pool
                + ", socketTimeout " + socketTimeoutSeconds + " s, or a shorter bound for validation or TLS"
                + " setup); the connection is closed and evicted from the pool."
                + " If statements legitimately take longer, raise statementTimeout; otherwise check that the"
                + " server is running and reachable", bound);
        timeout.initCause(e);
        DriverRegistry.lookup(key).ifPresent(entry -> entry.audit().record(
                AuditEvent.builder(Instant.now(), "jdbc.timeout", AuditEvent.Outcome.WARNING)
                        .field("pool", entry.pool())
                        .field("server", String.valueOf(socket.getRemoteSocketAddress()))
                        .field("bound", bound)
                        .field("socket_timeout_seconds", socketTimeoutSeconds)
                        .build()));
        return timeout;
    }

    /** A plain socket whose reads report a timeout as a {@link PostgresTimeoutException}. */
    private final class TimeoutReportingSocket extends Socket {
        private volatile @Nullable InputStream input;

        @Override
        public InputStream getInputStream() throws IOException {
            InputStream current = input;
            if (current == null) {
                current = new FilterInputStream(super.getInputStream()) {
                    @Override
                    public int read() throws IOException {
                        try {
                            return super.read();
                        } catch (SocketTimeoutException e) {
                            throw timedOut(TimeoutReportingSocket.this, e);
                        }
                    }

                    @Override
                    public int read(byte[] buffer, int offset, int length) throws IOException {
                        try {
                            return super.read(buffer, offset, length);
                        } catch (SocketTimeoutException e) {
                            throw timedOut(TimeoutReportingSocket.this, e);
                        }
                    }
                };
                input = current;
            }
            return current;
        }
    }
}
