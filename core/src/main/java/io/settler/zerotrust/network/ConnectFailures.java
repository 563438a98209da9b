package io.settler.zerotrust.network;

import io.settler.zerotrust.audit.LogSafe;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.util.Locale;
import java.util.Optional;

/**
 * Tells a TCP connect that failed before any TLS (nothing listens, no route to the host) from a
 * handshake or login failure, so that a client's message does not send its reader to the
 * certificates when the server is simply not there.
 */
public final class ConnectFailures {

    private ConnectFailures() {
    }

    /**
     * What to tell the user when {@code failure}, or one of its causes, is a refused or unroutable
     * TCP connect to {@code host:port}.
     *
     * @param failure what the client library threw
     * @param host the host connected to (escaped here)
     * @param port the port connected to
     * @return e.g. {@code nothing listens on 127.0.0.1:5432 (is the server running? is the port
     *     right?)}; empty for any other failure (a timeout, a handshake, a login)
     */
    public static Optional<String> describe(Throwable failure, String host, int port) {
        String server = LogSafe.text(host) + ":" + port;
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            String message = String.valueOf(t.getMessage()).toLowerCase(Locale.ROOT);
            if (t instanceof NoRouteToHostException
                    || (t instanceof ConnectException && message.contains("unreachable"))) {
                return Optional.of("nothing answers at " + server + ": no route to the host (is the host up? is"
                        + " the address right?)");
            }
            // Not every ConnectException is a refusal: Netty's connect timeout is one too.
            if (t instanceof ConnectException && message.contains("refused")) {
                return Optional.of("nothing listens on " + server + " (is the server running? is the port right?)");
            }
        }
        return Optional.empty();
    }
}
