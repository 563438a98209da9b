package io.settler.zerotrust.spring;

import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The clients of {@code zerotrust.clients}, by name: each calls one service over mutual TLS with
 * the server's SPIFFE identity verified and a fresh scoped service token per request.
 *
 * <pre>{@code
 * @Bean RestClient orders(ZeroTrustClients clients) { return clients.client("orders").restClient().build(); }
 * }</pre>
 *
 * <p>Immutable and thread-safe; closing it (Spring does) stops following certificate rotations.
 */
public final class ZeroTrustClients implements AutoCloseable {

    private final Map<String, ZeroTrustClient> clients;
    private final Runnable rotations;

    ZeroTrustClients(Map<String, ZeroTrustClient> clients, Runnable rotations) {
        this.clients = Map.copyOf(clients);
        this.rotations = rotations;
    }

    /**
     * The client configured as {@code zerotrust.clients.<name>}.
     *
     * @throws IllegalArgumentException naming the configured clients, if there is none of that name
     */
    public ZeroTrustClient client(String name) {
        ZeroTrustClient client = clients.get(name);
        if (client == null) {
            throw new IllegalArgumentException("no client '" + name + "': configure zerotrust.clients." + name
                    + ".base-url and .audience; configured are " + names());
        }
        return client;
    }

    /** The configured names, sorted. */
    public Set<String> names() {
        return new TreeSet<>(clients.keySet());
    }

    /** Stops following certificate rotations. */
    @Override
    public void close() {
        rotations.run();
    }

    @Override
    public String toString() {
        return "ZeroTrustClients" + names();
    }
}
