package io.settler.zerotrust.benchmarks.tls;

import java.nio.ByteBuffer;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult.HandshakeStatus;
import javax.net.ssl.SSLException;

/** Runs a TLS handshake between two engines in memory, without sockets: the handshake benchmarks' driver. */
final class EngineHandshakes {

    private EngineHandshakes() {
    }

    /** Drives both engines until the handshake is done; true when both sides finished. */
    static boolean handshake(SSLEngine client, SSLEngine server) throws SSLException {
        int size = Math.max(client.getSession().getPacketBufferSize(), server.getSession().getPacketBufferSize());
        ByteBuffer clientToServer = ByteBuffer.allocate(size * 4);
        ByteBuffer serverToClient = ByteBuffer.allocate(size * 4);
        ByteBuffer empty = ByteBuffer.allocate(0);
        ByteBuffer sink = ByteBuffer.allocate(client.getSession().getApplicationBufferSize() * 2);
        client.beginHandshake();
        server.beginHandshake();
        for (int round = 0; round < 1000; round++) {
            boolean progressed = step(client, empty, clientToServer, serverToClient, sink);
            progressed |= step(server, empty, serverToClient, clientToServer, sink);
            if (done(client) && done(server)) {
                return true;
            }
            if (!progressed) {
                throw new SSLException("handshake stalled: client " + client.getHandshakeStatus()
                        + ", server " + server.getHandshakeStatus());
            }
        }
        throw new SSLException("handshake did not finish");
    }

    private static boolean done(SSLEngine engine) {
        HandshakeStatus status = engine.getHandshakeStatus();
        return status == HandshakeStatus.NOT_HANDSHAKING || status == HandshakeStatus.FINISHED;
    }

    private static boolean step(SSLEngine engine, ByteBuffer empty, ByteBuffer out, ByteBuffer in, ByteBuffer sink)
            throws SSLException {
        boolean progressed = false;
        while (true) {
            HandshakeStatus status = engine.getHandshakeStatus();
            switch (status) {
                case NEED_WRAP -> {
                    engine.wrap(empty, out);
                    progressed = true;
                }
                case NEED_UNWRAP, NEED_UNWRAP_AGAIN -> {
                    in.flip();
                    var result = engine.unwrap(in, sink);
                    in.compact();
                    sink.clear();
                    if (result.bytesConsumed() == 0 && result.getHandshakeStatus() == status) {
                        return progressed;
                    }
                    progressed = true;
                }
                case NEED_TASK -> {
                    Runnable task;
                    while ((task = engine.getDelegatedTask()) != null) {
                        task.run();
                    }
                    progressed = true;
                }
                default -> {
                    return progressed;
                }
            }
        }
    }
}
