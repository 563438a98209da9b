/**
 * Signed, verified messages over Redis Streams (Lettuce's command types are in the API). The
 * redis-tls module is used, not exposed.
 */
module io.settler.zerotrust.queue {
    requires transitive io.settler.zerotrust.core;
    requires transitive io.settler.zerotrust.token;
    requires transitive lettuce.core;
    requires io.settler.zerotrust.redis;
    requires com.fasterxml.jackson.databind;

    exports io.settler.zerotrust.queue;
}
