package io.settler.zerotrust.spring;

import org.jspecify.annotations.Nullable;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.SmartInitializingSingleton;
import org.springframework.boot.web.server.WebServer;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.ApplicationContext;

/**
 * Stops the start of a service whose embedded web server the starter has not put on mutual TLS, so
 * that no configuration the starter cannot secure falls back to plaintext in silence: Spring Boot
 * before 4.0 (whose server classes the auto-configuration does not see, so its embedded server would
 * serve plaintext) and any embedded server the starter has not secured: anything but the Tomcat of a
 * servlet application and the Reactor Netty of a WebFlux application (e.g. Jetty, or Tomcat under
 * WebFlux). Runs once every bean exists: the web server has been created, with its connector or
 * {@code HttpServer} customized, but listens on no port yet.
 */
final class ServerGuard implements SmartInitializingSingleton {

    /** The first Spring Boot major version the starter is built and tested for. */
    static final int FIRST_SUPPORTED_BOOT = 4;

    private final @Nullable String bootVersion;
    private final ApplicationContext context;
    private final ObjectProvider<ServerSecurer> securers;
    private final StartupChecks checks;

    ServerGuard(@Nullable String bootVersion, ApplicationContext context,
                ObjectProvider<ServerSecurer> securers, StartupChecks checks) {
        this.bootVersion = bootVersion;
        this.context = context;
        this.securers = securers;
        this.checks = checks;
    }

    @Override
    public void afterSingletonsInstantiated() {
        refuseUnsupportedBoot();
        // Only reached on Boot 4, where this interface exists.
        WebServer server = context instanceof WebServerApplicationContext web ? web.getWebServer() : null;
        if (server != null && securers.stream().noneMatch(ServerSecurer::securedTheServer)) {
            throw checks.refuse(ZeroTrustConfigurationException.Reason.PLAINTEXT_SERVER,
                    "spring.main.web-application-type", "the embedded web server " + server.getClass().getSimpleName()
                            + " is not a server the starter has put on mutual TLS (zerotrust secures the embedded"
                            + " Tomcat of servlet applications and the Reactor Netty of WebFlux applications only), so"
                            + " it would accept connections without the library's TLS: use Boot's default server"
                            + " (spring-boot-starter-webmvc on Tomcat, or spring-boot-starter-webflux on Reactor Netty"
                            + " with zerotrust-netty-mtls, no other server factory), or set"
                            + " spring.main.web-application-type=none if this service serves no HTTP",
                    null);
        }
    }

    private void refuseUnsupportedBoot() {
        if (bootVersion == null) {
            return; // Boot's classes not from its jar (an IDE build of Boot itself): nothing to read
        }
        int dot = bootVersion.indexOf('.');
        int major;
        try {
            major = Integer.parseInt(dot < 0 ? bootVersion : bootVersion.substring(0, dot));
        } catch (NumberFormatException unreadable) {
            return;
        }
        if (major < FIRST_SUPPORTED_BOOT) {
            throw checks.refuse(ZeroTrustConfigurationException.Reason.UNSUPPORTED_SPRING_BOOT, "spring-boot.version",
                    "Spring Boot " + bootVersion + " is not supported: zerotrust-spring-boot-starter needs Spring Boot "
                            + FIRST_SUPPORTED_BOOT + ".0 or newer (on " + major + ".x its server configuration does"
                            + " not apply, and the embedded server would serve plaintext); upgrade Spring Boot", null);
        }
    }
}
