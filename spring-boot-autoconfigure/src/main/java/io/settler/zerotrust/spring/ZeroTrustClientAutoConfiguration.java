package io.settler.zerotrust.spring;

import io.settler.zerotrust.audit.AuditLog;
import io.settler.zerotrust.credentials.CredentialSource;
import io.settler.zerotrust.identity.ServiceIdentity;
import io.settler.zerotrust.policy.Policy;
import io.settler.zerotrust.policy.ServicePolicy;
import io.settler.zerotrust.tls.MtlsContext;
import io.settler.zerotrust.token.TokenSource;
import java.net.URI;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.ApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.util.ClassUtils;

/**
 * The {@link ZeroTrustClients} of {@code zerotrust.clients}, when Spring's web client classes are
 * there: per client a client {@link MtlsContext} on the service's rotating credentials that
 * requires the called service's SPIFFE identity, and the application's {@link TokenSource} for the
 * tokens. With Spring WebFlux, Reactor Netty and netty-mtls on the class path, each client also
 * gets a {@code WebClient} connector on that context ({@link ZeroTrustWebClient}). A client without
 * an https base URL or a policy service as its audience, or clients without a {@code TokenSource}
 * bean, stop the start.
 */
@AutoConfiguration(after = ZeroTrustAutoConfiguration.class)
@ConditionalOnClass(name = "org.springframework.http.client.ClientHttpRequestInterceptor")
public final class ZeroTrustClientAutoConfiguration {

    /** Created by Spring. */
    public ZeroTrustClientAutoConfiguration() {
        // beans only
    }

    /** The configured clients (none when {@code zerotrust.clients} is empty). */
    @Bean
    @ConditionalOnMissingBean
    ZeroTrustClients zeroTrustClients(ZeroTrustProperties properties, Policy policy, CredentialSource credentials,
                                      ObjectProvider<TokenSource> tokenSources, AuditLog audit,
                                      StartupChecks checks, ApplicationContext context) {
        Map<String, ZeroTrustClient> clients = new LinkedHashMap<>();
        List<AutoCloseable> rotating = new ArrayList<>();
        boolean webClients = webClientsPresent(context.getClassLoader());
        properties.clients().forEach((name, settings) -> {
            String prefix = "zerotrust.clients." + name;
            URI baseUrl = checks.require(settings.baseUrl(), prefix + ".base-url",
                    "https://" + name + ".internal:8443");
            if (!"https".equalsIgnoreCase(baseUrl.getScheme()) || baseUrl.getHost() == null) {
                throw checks.refuse(ZeroTrustConfigurationException.Reason.PLAINTEXT_CLIENT, prefix + ".base-url",
                        prefix + ".base-url is " + baseUrl + ", but clients call https URLs with a host only: write"
                                + " https://<host>:<port>", null);
            }
            String audienceName = checks.require(settings.audience(), prefix + ".audience", name);
            ServiceIdentity audience = policy.service(audienceName).map(ServicePolicy::identity).orElseThrow(() ->
                    checks.refuse(ZeroTrustConfigurationException.Reason.UNKNOWN_SERVICE, prefix + ".audience",
                            "the policy has no service '" + audienceName + "'; it defines "
                                    + policy.services().stream().map(ServicePolicy::name).toList()
                                    + ": set " + prefix + ".audience to the called service's name in the policy",
                            null));
            TokenSource tokens = tokenSources.getIfAvailable();
            if (tokens == null) {
                throw checks.refuse(ZeroTrustConfigurationException.Reason.MISSING_SETTING, prefix,
                        "the client '" + name + "' needs service tokens but the application has no TokenSource bean:"
                                + " define one, e.g. TokenSource.builder(ServiceTokens.builder().identity(...)"
                                + ".keys(signingKeys).build()).build()", null);
            }
            MtlsContext mtls = MtlsContext.client(credentials).expectedServer(audience.toString())
                    .auditLog(audit).build();
            RotatingRequestFactory factory = new RotatingRequestFactory(mtls, credentials);
            rotating.add(factory);
            ClientRequestGuard guard = new ClientRequestGuard(name, audience, settings.scopes(), tokens, audit);
            ZeroTrustWebClient webClient = null;
            if (webClients) {
                webClient = new ZeroTrustWebClient(name, mtls, credentials, guard, audit);
                rotating.add(webClient);
            }
            clients.put(name, new ZeroTrustClient(name, baseUrl, audience, settings.scopes(), factory, guard,
                    webClient));
        });
        return new ZeroTrustClients(clients, () -> {
            for (AutoCloseable closing : rotating) {
                try {
                    closing.close();
                } catch (Exception e) {
                    throw new IllegalStateException("cannot close the clients' connections", e);
                }
            }
        });
    }

    /** Whether the WebClient's classes are there: Spring WebFlux, Reactor Netty's client and netty-mtls. */
    private static boolean webClientsPresent(@Nullable ClassLoader loader) {
        return ClassUtils.isPresent("org.springframework.web.reactive.function.client.WebClient", loader)
                && ClassUtils.isPresent("reactor.netty.http.client.HttpClient", loader)
                && ClassUtils.isPresent("io.settler.zerotrust.netty.NettyMtls", loader);
    }
}
