package io.settler.zerotrust.jdbc;

import io.settler.zerotrust.audit.AuditLog;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import javax.net.ssl.SSLSocketFactory;

/**
 * The one static table pgjdbc forces on us: the driver instantiates its SSL and socket factories
 * from a class name per connection and hands them only a string ({@code sslfactoryarg},
 * {@code socketFactoryArg}). That string is a random key into this table; the data source adds its
 * entry when it is built and removes it when it closes.
 */
final class DriverRegistry {

    /** What a data source's connections need from inside the driver. */
    record Entry(SSLSocketFactory sslSocketFactory, AuditLog audit, String pool) {
    }

    private static final Map<String, Entry> ENTRIES = new ConcurrentHashMap<>();

    private DriverRegistry() {
    }

    static String register(Entry entry) {
        String key = UUID.randomUUID().toString();
        ENTRIES.put(key, entry);
        return key;
    }

    static Optional<Entry> lookup(String key) {
        return key == null ? Optional.empty() : Optional.ofNullable(ENTRIES.get(key));
    }

    static void remove(String key) {
        ENTRIES.remove(key);
    }

    static boolean contains(String key) {
        return ENTRIES.containsKey(key);
    }
}
