/**
 * mTLS for Netty servers and clients: SslContexts, the peer-identity, token, rate-limit and
 * connection-expiry handlers. Netty's channel, handler, SSL and HTTP types are in the API, hence
 * transitive.
 *
 * <p>The OpenSSL provider (netty-tcnative-boringssl-static) is optional: {@code requires static}.
 * Nothing requires it at run time, so on the module path it is resolved only when the application
 * asks, e.g. {@code --add-modules io.netty.tcnative.classes.openssl,io.netty.internal.tcnative.openssl.linux.x86_64}
 * (the classes and the native library of the platform); without it the OPENSSL provider reports
 * itself unavailable and AUTO uses the JDK's.
 */
module io.settler.zerotrust.netty {
    // @NullMarked packages, @Nullable in the API: the annotations are part of what users compile against.
    requires static transitive org.jspecify;
    requires transitive io.settler.zerotrust.core;
    requires transitive io.settler.zerotrust.token;
    requires transitive io.netty.common;
    requires transitive io.netty.transport;
    requires transitive io.netty.handler;
    requires transitive io.netty.codec.http;
    requires io.netty.buffer;
    requires io.netty.codec;
    requires static io.netty.tcnative.classes.openssl;

    exports io.settler.zerotrust.netty;
}
