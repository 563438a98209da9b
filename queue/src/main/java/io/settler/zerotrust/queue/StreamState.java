package io.settler.zerotrust.queue;

import io.lettuce.core.api.sync.RedisStreamCommands;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * What {@code XINFO STREAM} and then {@code XINFO GROUPS} said about one stream: enough to tell
 * whether entries a group has not yet handled disappeared, and how far acknowledged entries may
 * be trimmed. The stream is read before the groups, so entries published, delivered or
 * acknowledged in between can only make {@link #unhandled} smaller, never raise a false alarm.
 */
record StreamState(long length, long entriesAdded, @Nullable String maxDeletedId, @Nullable String firstEntryId,
                   List<Group> groups) {

    /** One consumer group; {@code entriesRead} is {@code null} when Redis no longer knows it. */
    record Group(String name, long pending, String lastDeliveredId, @Nullable Long entriesRead) {
    }

    static StreamState read(RedisStreamCommands<String, String> redis, String stream) {
        Map<String, Object> info = fields(redis.xinfoStream(stream));
        List<Group> groups = new ArrayList<>();
        for (Object group : redis.xinfoGroups(stream)) {
            Map<String, Object> fields = fields((List<?>) group);
            groups.add(new Group(text(fields, "name"), number(fields.get("pending")),
                    text(fields, "last-delivered-id"), (Long) fields.get("entries-read")));
        }
        Object first = info.get("first-entry");
        String firstId = first instanceof List<?> entry && !entry.isEmpty() ? (String) entry.get(0) : null;
        return new StreamState(number(info.get("length")), number(info.get("entries-added")),
                (String) info.get("max-deleted-entry-id"), firstId, List.copyOf(groups));
    }

    @Nullable Group group(String name) {
        return groups.stream().filter(group -> group.name().equals(name)).findFirst().orElse(null);
    }

    /**
     * Entries {@code group} has not finished with (pending, or added after its last delivery),
     * which must all still be in the stream; {@code -1} when Redis lost the group's read counter.
     */
    long unhandled(Group group) {
        return group.entriesRead() == null ? -1 : entriesAdded - group.entriesRead() + group.pending();
    }

    /** Whether an entry after {@code group}'s last delivery, one it never saw, was deleted ({@code XDEL}). */
    boolean deletedUndelivered(Group group) {
        return maxDeletedId != null && compare(maxDeletedId, group.lastDeliveredId()) > 0;
    }

    /** Orders stream IDs ({@code <ms>-<seq>}, unsigned) as Redis does. */
    static int compare(String a, String b) {
        int byTime = Long.compareUnsigned(millis(a), millis(b));
        return byTime != 0 ? byTime : Long.compareUnsigned(sequence(a), sequence(b));
    }

    /**
     * The time part of a stream ID, an unsigned number (compare with {@link Long#compareUnsigned}).
     *
     * @throws NumberFormatException if it is not one
     */
    static long millis(String id) {
        int dash = id.indexOf('-');
        return Long.parseUnsignedLong(dash < 0 ? id : id.substring(0, dash));
    }

    private static long sequence(String id) {
        int dash = id.indexOf('-');
        return dash < 0 ? 0 : Long.parseUnsignedLong(id.substring(dash + 1));
    }

    private static Map<String, Object> fields(List<?> reply) {
        Map<String, Object> fields = new HashMap<>();
        for (int i = 0; i + 1 < reply.size(); i += 2) {
            fields.put(String.valueOf(reply.get(i)), reply.get(i + 1));
        }
        return fields;
    }

    /** A field every Redis version that has consumer groups replies with. */
    private static String text(Map<String, Object> fields, String name) {
        if (fields.get(name) instanceof String value) {
            return value;
        }
        throw new IllegalStateException("XINFO GROUPS replied without '" + name + "'");
    }

    private static long number(@Nullable Object value) {
        return value instanceof Long number ? number : 0;
    }
}
