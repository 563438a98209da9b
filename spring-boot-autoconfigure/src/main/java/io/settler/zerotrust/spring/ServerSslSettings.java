package io.settler.zerotrust.spring;

import org.jspecify.annotations.Nullable;
import org.springframework.boot.web.server.Ssl;

/**
 * The {@code server.ssl.*} settings, refused for every embedded server the starter secures (Tomcat,
 * Reactor Netty): the server's TLS comes from {@code zerotrust.credentials}, and Boot's own
 * {@code server.ssl} wiring would check client certificates against the CA only, not the policy.
 */
final class ServerSslSettings {

    private ServerSslSettings() {
    }

    /** Refuses any {@code server.ssl} setting, naming the one that weakens the server most. */
    static void refuse(@Nullable Ssl ssl, StartupChecks checks) {
        if (ssl == null) {
            return;
        }
        if (!ssl.isEnabled()) {
            throw checks.refuse(ZeroTrustConfigurationException.Reason.PLAINTEXT_SERVER, "server.ssl.enabled",
                    "server.ssl.enabled=false would serve plaintext while zerotrust is on: remove it; the server's TLS"
                            + " comes from zerotrust.credentials", null);
        }
        if (ssl.getClientAuth() != null && ssl.getClientAuth() != Ssl.ClientAuth.NEED) {
            throw checks.refuse(ZeroTrustConfigurationException.Reason.CLIENT_AUTH_NOT_REQUIRED,
                    "server.ssl.client-auth",
                    "server.ssl.client-auth=" + ssl.getClientAuth() + " would let callers in without a certificate:"
                            + " remove it; zerotrust always requires and authorizes client certificates", null);
        }
        throw checks.refuse(ZeroTrustConfigurationException.Reason.CONFLICTING_SERVER_SSL, "server.ssl",
                "server.ssl.* is set, but zerotrust configures the server's TLS from zerotrust.credentials (Boot's"
                        + " server.ssl would check client certificates against the CA only, not the policy): remove"
                        + " every server.ssl.* property", null);
    }
}
