package io.settler.zerotrust.tls;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLServerSocketFactory;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;

/**
 * One real TLS exchange over 127.0.0.1: the server accepts, handshakes and echoes one byte; the
 * client connects, writes one byte and reads it back. Each side reports what failed, if anything.
 */
final class Loopback {

    /** What each side saw; empty means it completed the exchange. */
    record Outcome(Optional<Throwable> server, Optional<Throwable> client) {
        boolean succeeded() {
            return server.isEmpty() && client.isEmpty();
        }
    }

    private Loopback() {
    }

    static Outcome exchange(SSLServerSocketFactory serverFactory, SSLSocketFactory clientFactory, String host)
            throws Exception {
        return exchange(serverFactory, SSLSocket::startHandshake, clientFactory, host);
    }

    /** How the server completes its handshake, e.g. {@link io.settler.zerotrust.tls.MtlsContext#handshake}. */
    @FunctionalInterface
    interface ServerHandshake {
        void run(SSLSocket socket) throws IOException;
    }

    static Outcome exchange(MtlsContext server, SSLSocketFactory clientFactory, String host) throws Exception {
        return exchange(server.serverSocketFactory(), server::handshake, clientFactory, host);
    }

    static Outcome exchange(SSLServerSocketFactory serverFactory, ServerHandshake serverHandshake,
                            SSLSocketFactory clientFactory, String host) throws Exception {
        return exchanges(serverFactory, serverHandshake, clientFactory, host, 1).get(0);
    }

    /**
     * {@code count} exchanges one after the other with the same listener (the same host and port),
     * so a client that keeps sessions may offer the first one's session again.
     */
    static List<Outcome> exchanges(SSLServerSocketFactory serverFactory, ServerHandshake serverHandshake,
                                   SSLSocketFactory clientFactory, String host, int count) throws Exception {
        try (SSLServerSocket listener = (SSLServerSocket) serverFactory.createServerSocket(0, 1,
                InetAddress.getLoopbackAddress())) {
            listener.setSoTimeout(10_000);
            List<Outcome> outcomes = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                outcomes.add(exchange(listener, serverHandshake, clientFactory, host));
            }
            return outcomes;
        }
    }

    private static Outcome exchange(SSLServerSocket listener, ServerHandshake serverHandshake,
                                    SSLSocketFactory clientFactory, String host) throws Exception {
        CompletableFuture<Optional<Throwable>> server = CompletableFuture.supplyAsync(() -> {
            try (SSLSocket socket = (SSLSocket) listener.accept()) {
                socket.setSoTimeout(10_000);
                serverHandshake.run(socket);
                InputStream in = socket.getInputStream();
                int b = in.read();
                OutputStream out = socket.getOutputStream();
                out.write(b);
                out.flush();
                return Optional.empty();
            } catch (IOException e) {
                return Optional.of(rootOf(e));
            }
        });
        Optional<Throwable> client;
        try (Socket socket = new Socket()) {
            socket.setSoTimeout(10_000);
            socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), listener.getLocalPort()), 10_000);
            try (SSLSocket tls = (SSLSocket) clientFactory.createSocket(socket, host, listener.getLocalPort(), true)) {
                tls.startHandshake();
                tls.getOutputStream().write(42);
                tls.getOutputStream().flush();
                int echoed = tls.getInputStream().read();
                client = echoed == 42 ? Optional.empty()
                        : Optional.of(new IOException("connection closed instead of echo (read " + echoed + ")"));
            }
        } catch (IOException e) {
            client = Optional.of(e);
        }
        try {
            return new Outcome(server.get(15, TimeUnit.SECONDS), client);
        } catch (ExecutionException e) {
            return new Outcome(Optional.of(e.getCause()), client);
        }
    }

    /** Both ends' sessions of a completed handshake. */
    record Sessions(SSLSession server, SSLSession client) {
    }

    /** One handshake between our server and our client contexts; the sessions stay readable after the close. */
    static Sessions handshake(MtlsContext server, MtlsContext client, String host) throws Exception {
        try (SSLServerSocket listener = (SSLServerSocket) server.serverSocketFactory().createServerSocket(0, 1,
                InetAddress.getLoopbackAddress())) {
            listener.setSoTimeout(10_000);
            CompletableFuture<SSLSession> accepted = CompletableFuture.supplyAsync(() -> {
                try (SSLSocket socket = (SSLSocket) listener.accept()) {
                    socket.setSoTimeout(10_000);
                    server.handshake(socket);
                    socket.getOutputStream().write(socket.getInputStream().read());
                    return socket.getSession();
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
            });
            try (SSLSocket socket = (SSLSocket) client.socketFactory().createSocket(host, listener.getLocalPort())) {
                socket.setSoTimeout(10_000);
                socket.startHandshake();
                socket.getOutputStream().write(42);
                socket.getInputStream().read();
                return new Sessions(accepted.get(15, TimeUnit.SECONDS), socket.getSession());
            }
        }
    }

    /** The most specific cause: the trust manager's exception rather than the SSLHandshakeException around it. */
    static Throwable rootOf(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t;
    }
}
