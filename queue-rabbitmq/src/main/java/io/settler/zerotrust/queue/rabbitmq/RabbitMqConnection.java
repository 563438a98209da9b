package io.settler.zerotrust.queue.rabbitmq;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import java.io.IOException;
import java.util.Objects;

/**
 * A connection to RabbitMQ from {@link RabbitMqConnections}, with the identity the broker logged it
 * in as (the SPIFFE ID of the client certificate presented): the {@code user-id} its senders set,
 * which the broker validates.
 *
 * <p>A lost connection (its node stopped, the network failed, the broker closed it) is not recovered
 * behind the caller's back: the call that was using it fails, and the next call that needs it
 * ({@link #connection()}, a sender's publish, a source's receive) opens a new one, to the first node
 * of the cluster that takes it, audited as {@code rabbitmq.reconnected}. Deliveries of the lost
 * connection cannot be settled any more; the broker gives them out again. Thread-safe; close it when done.
 */
public final class RabbitMqConnection implements AutoCloseable {

    private final RabbitMqConnections connections;
    private final String name;
    private final String identity;
    private Connection current;
    private boolean closed;

    RabbitMqConnection(RabbitMqConnections connections, String name, String identity, Connection connection) {
        this.connections = Objects.requireNonNull(connections, "connections");
        this.name = Objects.requireNonNull(name, "name");
        this.identity = Objects.requireNonNull(identity, "identity");
        this.current = Objects.requireNonNull(connection, "connection");
    }

    /**
     * The RabbitMQ client's connection, e.g. for an operator's setup channel: the current one, or a
     * new one if it was lost.
     *
     * @throws RabbitMqException {@link RabbitMqException.Reason#CONNECTION_FAILED} (audited) if it was
     *     lost and no node took a new one
     * @throws IllegalStateException if {@link #close()} was called
     */
    public synchronized Connection connection() {
        if (closed) {
            throw new IllegalStateException(this + " is closed");
        }
        if (!current.isOpen()) {
            current = connections.open(name, identity);
            connections.recordReconnect(name, identity, current);
        }
        return current;
    }

    /** A new channel on the current connection (a new connection if it was lost). */
    Channel createChannel() throws IOException {
        Channel channel = connection().createChannel();
        if (channel == null) {
            throw new IOException("the connection has no channel left (channel-max reached)");
        }
        return channel;
    }

    /** The SPIFFE ID the broker authenticated this connection as (its user name). */
    public String identity() {
        return identity;
    }

    /** Whether the current connection is open; a lost one is replaced by the next call that needs it. */
    public synchronized boolean isOpen() {
        return !closed && current.isOpen();
    }

    /** Closes the connection and its channels; unacknowledged deliveries go back to their queues. */
    @Override
    public synchronized void close() throws IOException {
        closed = true;
        if (current.isOpen()) {
            current.close();
        }
    }

    @Override
    public String toString() {
        return "RabbitMqConnection[" + name + " as " + identity + "]";
    }
}
