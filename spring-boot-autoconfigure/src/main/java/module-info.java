/**
 * Spring Boot auto-configuration of the library. Spring's jars are automatic modules (stable
 * Automatic-Module-Names), hence the suppressed warnings. The integrations Boot applications
 * choose (the embedded Tomcat, Reactor Netty with netty-mtls, Spring Security, Micrometer) are
 * static: configured only when the application has them. The package is open to Spring, which instantiates the configuration
 * classes and binds the properties records reflectively.
 */
@SuppressWarnings({"requires-automatic", "requires-transitive-automatic"})
module io.settler.zerotrust.spring {
    // @NullMarked packages, @Nullable in the API: the annotations are part of what users compile against.
    requires static transitive org.jspecify;
    requires transitive io.settler.zerotrust.core;
    requires transitive io.settler.zerotrust.token;
    requires transitive spring.boot;
    requires transitive spring.boot.autoconfigure;
    requires spring.beans;
    requires transitive spring.context;
    requires transitive spring.core;
    requires static io.settler.zerotrust.micrometer;
    requires static io.settler.zerotrust.jdbc;
    requires static io.settler.zerotrust.redis;
    requires static io.settler.zerotrust.queue;
    requires static spring.data.redis;
    requires static reactor.core;
    requires static java.sql;
    requires static spring.jdbc;
    requires static spring.tx;
    requires static micrometer.core;
    requires static org.apache.tomcat.embed.core;
    requires static spring.boot.tomcat;
    // WebFlux on Reactor Netty (server), and the mTLS WebClient (ZeroTrustClient.webClient()): only with
    // WebFlux, Reactor Netty and netty-mtls.
    requires static io.settler.zerotrust.netty;
    requires static io.netty.handler;
    requires static io.netty.transport;
    requires static reactor.netty.core;
    requires static reactor.netty.http;
    requires static spring.boot.reactor.netty;
    requires static transitive spring.webflux;
    requires static spring.boot.web.server;
    requires static spring.boot.security;
    requires static transitive spring.security.config;
    requires static transitive spring.security.core;
    requires static spring.security.web;
    requires static transitive spring.web;
    requires static transitive spring.boot.restclient;
    requires static transitive spring.boot.health;
    requires java.net.http;

    exports io.settler.zerotrust.spring;
    opens io.settler.zerotrust.spring to spring.core, spring.beans, spring.context, spring.boot;
}
