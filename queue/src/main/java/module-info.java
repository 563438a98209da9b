/**
 * Signed, verified messages over a transport SPI, with Redis Streams as its first transport
 * (Lettuce's command types are in the API of its factories). The
 * redis-tls module is used, not exposed. Lettuce is an automatic module with a stable name
 * (lettuce.core, from its manifest): javac's warnings about requiring it are suppressed.
 */
@SuppressWarnings({"requires-automatic", "requires-transitive-automatic"})
module io.settler.zerotrust.queue {
    // @NullMarked packages, @Nullable in the API: the annotations are part of what users compile against.
    requires static transitive org.jspecify;
    requires transitive io.settler.zerotrust.core;
    requires transitive io.settler.zerotrust.token;
    requires transitive lettuce.core;
    requires io.settler.zerotrust.redis;
    requires com.fasterxml.jackson.databind;

    exports io.settler.zerotrust.queue;
}
