package io.settler.zerotrust.redis;

import io.settler.zerotrust.audit.LogSafe;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * The keys of one service: {@code <service>:<part>:<part>...}, or with {@link #clustered(String)}
 * {@code {<service>}:<part>...}, so every key of the service hashes to one Redis Cluster slot and
 * multi-key commands keep working.
 *
 * <pre>{@code
 * KeyNamespace billing = KeyNamespace.of("billing");
 * billing.key("invoice", invoiceId);   // billing:invoice:<invoiceId, escaped>
 * billing.aclPattern();                // ~billing:*  (the ACL key pattern of this service)
 * }</pre>
 *
 * <p>Parts are escaped, so a part can never add a separator, open a hash tag or look like a glob:
 * {@code % : { } * ? [ ] \} and anything outside printable ASCII become {@code %XX} (UTF-8 bytes).
 * Two different part lists therefore never give the same key. Immutable and thread-safe.
 */
public final class KeyNamespace {

    /** A service name: also what {@link RedisAcl} accepts as an ACL user name. */
    static final Pattern SERVICE = Pattern.compile("[a-z][a-z0-9_-]{0,62}");
    /** Longer parts are a mistake (a payload used as a key); hash them first. */
    static final int MAX_PART_LENGTH = 512;

    private final String service;
    private final String prefix;

    private KeyNamespace(String service, boolean hashTag) {
        Objects.requireNonNull(service, "service");
        if (!SERVICE.matcher(service).matches()) {
            throw new RedisTlsException(RedisTlsException.Reason.INVALID_KEY, "a key namespace is a service name: "
                    + "lower-case letters, digits, '-' or '_', starting with a letter, at most 63; got '"
                    + LogSafe.text(service) + "'");
        }
        this.service = service;
        this.prefix = hashTag ? "{" + service + "}:" : service + ":";
    }

    /** Keys {@code <service>:...}. */
    public static KeyNamespace of(String service) {
        return new KeyNamespace(service, false);
    }

    /** Keys {@code {<service>}:...}: all in one Redis Cluster hash slot. */
    public static KeyNamespace clustered(String service) {
        return new KeyNamespace(service, true);
    }

    /** The service name. */
    public String service() {
        return service;
    }

    /** {@code <service>:} or {@code {<service>}:}. */
    public String prefix() {
        return prefix;
    }

    /**
     * A key of this namespace.
     *
     * @param parts one or more parts, each non-empty and at most 512 characters; escaped as described
     * @throws RedisTlsException {@code INVALID_KEY} for no parts, an empty or too long part
     */
    public String key(String... parts) {
        if (parts.length == 0) {
            throw new RedisTlsException(RedisTlsException.Reason.INVALID_KEY, "a key needs at least one part");
        }
        StringBuilder key = new StringBuilder(prefix);
        for (int i = 0; i < parts.length; i++) {
            if (i > 0) {
                key.append(':');
            }
            key.append(escape(parts[i]));
        }
        return key.toString();
    }

    /** Whether {@code key} belongs to this namespace. */
    public boolean owns(String key) {
        return key != null && key.startsWith(prefix);
    }

    /** The ACL key pattern that covers this namespace: {@code ~<prefix>*}. */
    public String aclPattern() {
        return "~" + prefix + "*";
    }

    /**
     * One part, escaped.
     *
     * @throws RedisTlsException {@code INVALID_KEY} if it is null, empty or longer than 512 characters
     */
    static String escape(String part) {
        if (part == null || part.isEmpty() || part.length() > MAX_PART_LENGTH) {
            throw new RedisTlsException(RedisTlsException.Reason.INVALID_KEY, "a key part must be 1 to "
                    + MAX_PART_LENGTH + " characters; got " + (part == null ? "null" : part.length() + " characters")
                    + " (hash long values before using them as keys)");
        }
        StringBuilder out = new StringBuilder(part.length());
        for (byte b : part.getBytes(StandardCharsets.UTF_8)) {
            int c = b & 0xff;
            if (c > 0x20 && c < 0x7f && "%:{}*?[]\\".indexOf(c) < 0) {
                out.append((char) c);
            } else {
                out.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
                        .append(Character.toUpperCase(Character.forDigit(c & 0xf, 16)));
            }
        }
        return out.toString();
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof KeyNamespace that && prefix.equals(that.prefix);
    }

    @Override
    public int hashCode() {
        return prefix.hashCode();
    }

    @Override
    public String toString() {
        return "KeyNamespace[" + prefix + "]";
    }
}
