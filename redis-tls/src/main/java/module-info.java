/**
 * Hardened Redis clients (Lettuce, whose types are in the API) over TLS, Redis ACLs, and a Redis
 * replay guard for service tokens.
 */
module io.settler.zerotrust.redis {
    requires transitive io.settler.zerotrust.core;
    requires transitive io.settler.zerotrust.token;
    requires transitive lettuce.core;
    requires reactor.core;
    requires io.netty.common;
    requires io.netty.transport;
    requires io.netty.handler;

    exports io.settler.zerotrust.redis;
}
