/**
 * Hardened Redis clients (Lettuce, whose types are in the API) over TLS, Redis ACLs, and a Redis
 * replay guard for service tokens.
 *
 * <p>Lettuce is an automatic module: it reads every module but can require none, so the explicit
 * modules it needs at run time are resolved only when a module requires them. Netty's DNS resolver
 * is one (Lettuce's client resources load it), hence required here though no class of ours names it.
 * Lettuce and Reactor name their automatic modules in their manifests (lettuce.core, reactor.core), so
 * the names are stable: javac's warnings about requiring automatic modules are expected, and suppressed.
 */
@SuppressWarnings({"requires-automatic", "requires-transitive-automatic"})
module io.settler.zerotrust.redis {
    // @NullMarked packages, @Nullable in the API: the annotations are part of what users compile against.
    requires static transitive org.jspecify;
    requires transitive io.settler.zerotrust.core;
    requires transitive io.settler.zerotrust.token;
    requires transitive lettuce.core;
    requires reactor.core;
    requires io.netty.common;
    requires io.netty.transport;
    requires io.netty.handler;
    requires io.netty.resolver.dns;

    exports io.settler.zerotrust.redis;
}
