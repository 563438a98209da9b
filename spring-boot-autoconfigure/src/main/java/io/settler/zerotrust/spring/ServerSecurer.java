package io.settler.zerotrust.spring;

/**
 * A customizer of an embedded server factory that puts the server on the library's mutual TLS
 * ({@link ZeroTrustTomcatCustomizer}, {@link ZeroTrustNettyCustomizer}); {@link ServerGuard} asks
 * each whether it did.
 */
interface ServerSecurer {

    /** Whether the application's embedded server was put on the library's TLS by this customizer. */
    boolean securedTheServer();
}
