package io.settler.zerotrust.token;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;

/**
 * A bounded concurrent map whose entries expire at a given epoch second; shared by the
 * verified-token cache and the in-memory replay guard. When full it drops expired entries, at most
 * once per second (so a flood cannot turn every call into a scan), and refuses new entries while
 * it is still full: it never evicts a live entry.
 */
final class ExpiringMap<K, V> {

    /** The result of {@link #putIfAbsent}. */
    enum Insert {
        ADDED,
        PRESENT,
        FULL
    }

    private record Entry<V>(V value, long expiresAt) {
    }

    private final ConcurrentHashMap<K, Entry<V>> entries = new ConcurrentHashMap<>();
    private final int capacity;
    private final AtomicLong nextPurge = new AtomicLong(Long.MIN_VALUE);

    ExpiringMap(int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be at least 1; got " + capacity);
        }
        this.capacity = capacity;
    }

    /** The live value for the key, or {@code null}. */
    @Nullable V get(K key, long now) {
        Entry<V> entry = entries.get(key);
        if (entry == null) {
            return null;
        }
        if (now >= entry.expiresAt) {
            entries.remove(key, entry);
            return null;
        }
        return entry.value;
    }

    /** Stores the value until {@code expiresAt} if there is room; returns whether it did. */
    boolean put(K key, V value, long expiresAt, long now) {
        if (!hasRoom(now)) {
            return false;
        }
        entries.put(key, new Entry<>(value, expiresAt));
        return true;
    }

    /** Stores the value unless a live one is there already, atomically. */
    @SuppressWarnings("ReferenceEquality") // whether our entry, this very object, won the compute
    Insert putIfAbsent(K key, V value, long expiresAt, long now) {
        Entry<V> existing = entries.get(key);
        if (existing != null && now < existing.expiresAt) {
            return Insert.PRESENT;
        }
        if (existing == null && !hasRoom(now)) {
            return Insert.FULL;
        }
        Entry<V> fresh = new Entry<>(value, expiresAt);
        Entry<V> stored = entries.compute(key, (k, old) -> old == null || now >= old.expiresAt ? fresh : old);
        return stored == fresh ? Insert.ADDED : Insert.PRESENT;
    }

    int size() {
        return entries.size();
    }

    private boolean hasRoom(long now) {
        if (entries.size() < capacity) {
            return true;
        }
        long due = nextPurge.get();
        if (now >= due && nextPurge.compareAndSet(due, now + 1)) {
            entries.values().removeIf(entry -> now >= entry.expiresAt);
        }
        return entries.size() < capacity;
    }
}
