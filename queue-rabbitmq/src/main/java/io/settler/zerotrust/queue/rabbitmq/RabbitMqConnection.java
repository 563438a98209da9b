package io.settler.zerotrust.queue.rabbitmq;

import com.rabbitmq.client.Connection;
import java.io.IOException;
import java.util.Objects;

/**
 * An open connection to RabbitMQ from {@link RabbitMqConnections}, with the identity the broker
 * logged it in as (the SPIFFE ID of the client certificate presented): the {@code user-id} its
 * senders set, which the broker validates. Thread-safe; close it when done.
 */
public final class RabbitMqConnection implements AutoCloseable {

    private final Connection connection;
    private final String identity;

    RabbitMqConnection(Connection connection, String identity) {
        this.connection = Objects.requireNonNull(connection, "connection");
        this.identity = Objects.requireNonNull(identity, "identity");
    }

    /** The RabbitMQ client's connection, e.g. for an operator's setup channel. */
    public Connection connection() {
        return connection;
    }

    /** The SPIFFE ID the broker authenticated this connection as (its user name). */
    public String identity() {
        return identity;
    }

    /** Whether the connection is still open (no automatic recovery: a closed one stays closed). */
    public boolean isOpen() {
        return connection.isOpen();
    }

    /** Closes the connection and its channels; unacknowledged deliveries go back to their queues. */
    @Override
    public void close() throws IOException {
        if (connection.isOpen()) {
            connection.close();
        }
    }

    @Override
    public String toString() {
        return "RabbitMqConnection[" + identity + "]";
    }
}
