package io.settler.zerotrust.network;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.api.Test;

class ConnectFailuresTest {

    @Test
    void aRefusedConnectSaysNothingListens() throws IOException {
        int port;
        try (ServerSocket closedAgain = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = closedAgain.getLocalPort();
        }
        Throwable refused = catchThrowable(() -> {
            try (Socket socket = new Socket()) {
                socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 2_000);
            }
        });
        Throwable wrapped = new IllegalStateException("the pool could not start", refused);

        assertThat(ConnectFailures.describe(wrapped, "127.0.0.1", port)).contains("nothing listens on 127.0.0.1:"
                + port + " (is the server running? is the port right?)");
    }

    @Test
    void otherFailuresAreNotConnectFailures() {
        assertThat(ConnectFailures.describe(new SSLHandshakeException("PKIX path building failed"), "db", 5432))
                .isEmpty();
        assertThat(ConnectFailures.describe(new SocketTimeoutException("connect timed out"), "db", 5432)).isEmpty();
        assertThat(ConnectFailures.describe(new java.net.ConnectException("connection timed out after 5000 ms"),
                "db", 5432)).isEmpty();
    }

    @Test
    void escapesTheHost() {
        assertThat(ConnectFailures.describe(new java.net.NoRouteToHostException("No route to host"), "db\nforged", 1))
                .hasValueSatisfying(text -> assertThat(text).startsWith("nothing answers at db\\u000aforged:1")
                        .doesNotContain("\n"));
    }
}
