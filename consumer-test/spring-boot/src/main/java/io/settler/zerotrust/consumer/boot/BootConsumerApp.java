package io.settler.zerotrust.consumer.boot;

import io.settler.zerotrust.credentials.CredentialSource;
import io.settler.zerotrust.credentials.TlsIdentity;
import io.settler.zerotrust.credentials.TrustBundle;
import io.settler.zerotrust.pki.DevCertificateAuthority;
import io.settler.zerotrust.pki.IssuedCertificate;
import io.settler.zerotrust.tls.MtlsContext;
import io.settler.zerotrust.token.KeySet;
import io.settler.zerotrust.token.ServiceTokens;
import io.settler.zerotrust.token.TokenAlgorithm;
import io.settler.zerotrust.token.TokenKey;
import io.settler.zerotrust.token.TokenRequest;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.Principal;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLContext;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.ssl.SslBundles;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * A Boot service that adds the starter and sets {@code zerotrust.*} properties, nothing else: no security
 * configuration, no SSL settings. It starts the service on a loopback port and checks from outside that
 * it is zero-trust: the policy's caller with a token gets 200, without a token 401, and a certificate
 * from another CA is refused in the handshake. Exits non-zero on the first check that fails.
 */
@SpringBootApplication(proxyBeanMethods = false)
public class BootConsumerApp {

    private static final String DOMAIN = "example.org";
    private static final String API = "spiffe://" + DOMAIN + "/api";

    /** The service's one endpoint. */
    @RestController
    static class Hello {
        @GetMapping("/hello")
        String hello(Principal caller) {
            return "hello " + caller.getName();
        }
    }

    public static void main(String[] args) throws Exception {
        Path dir = Files.createTempDirectory("boot-consumer");
        DevCertificateAuthority ca = DevCertificateAuthority.create(DOMAIN);
        ca.leaf("api").serverAndClient().dnsNames("localhost").ipAddresses("127.0.0.1")
                .validity(Duration.ofHours(1)).issue().writePem(dir, "api");
        IssuedCertificate gateway = ca.leaf("gateway").client().issue();
        KeySet gatewayKeys = KeySet.builder().signingKey(TokenKey.generate(TokenAlgorithm.ES256, "gw-1")).build();
        Files.writeString(dir.resolve("gateway.jwks.json"), gatewayKeys.toJwks());
        Files.writeString(dir.resolve("policy.json"), """
                {"trustDomain": "example.org", "services": {
                  "api": {"scopes": [], "accepts": [{"service": "gateway"}]},
                  "gateway": {"scopes": ["hello:read"]}}}""");

        SpringApplication application = new SpringApplication(BootConsumerApp.class);
        application.setDefaultProperties(Map.of(
                "server.port", "0",
                "server.address", "127.0.0.1",
                "spring.main.banner-mode", "off",
                "zerotrust.service", "api",
                "zerotrust.policy", "file:" + dir.resolve("policy.json"),
                "zerotrust.credentials.certificate", dir.resolve("api.crt").toString(),
                "zerotrust.credentials.key", dir.resolve("api.key").toString(),
                "zerotrust.credentials.trust", dir.resolve("ca.crt").toString(),
                "zerotrust.tokens.issuers.gateway.jwks", "file:" + dir.resolve("gateway.jwks.json")));
        try (ConfigurableApplicationContext app = application.run(args)) {
            URI hello = URI.create("https://127.0.0.1:"
                    + ((WebServerApplicationContext) app).getWebServer().getPort() + "/hello");
            check(app.getBean(SslBundles.class).getBundle("zerotrust") != null, "the zerotrust SSL bundle exists");

            HttpClient gatewayClient = client(client(gateway, ca));
            String token = ServiceTokens.builder().identity("spiffe://example.org/gateway").keys(gatewayKeys).build()
                    .mint(TokenRequest.to(API).scopes("hello:read").build());
            HttpResponse<String> allowed = gatewayClient.send(HttpRequest.newBuilder(hello)
                    .header("Authorization", "Bearer " + token).build(), HttpResponse.BodyHandlers.ofString());
            check(allowed.statusCode() == 200 && allowed.body().equals("hello spiffe://example.org/gateway"),
                    "the policy's caller with a token is served: " + allowed.statusCode() + " " + allowed.body());

            HttpResponse<String> noToken = gatewayClient.send(HttpRequest.newBuilder(hello).build(),
                    HttpResponse.BodyHandlers.ofString());
            check(noToken.statusCode() == 401 && noToken.body().isEmpty(),
                    "a request without a token gets an empty 401: " + noToken.statusCode());

            DevCertificateAuthority other = DevCertificateAuthority.create(DOMAIN);
            boolean refused;
            try {
                client(client(other.leaf("gateway").client().issue(), ca)).send(HttpRequest.newBuilder(hello)
                        .header("Authorization", "Bearer " + token).build(), HttpResponse.BodyHandlers.ofString());
                refused = false;
            } catch (IOException expected) {
                refused = true;
            }
            check(refused, "a certificate from another CA is refused in the handshake");
        }
        System.out.println("boot consumer: the starter works through Spring Boot's BOM and zerotrust-bom");
    }

    private static SSLContext client(IssuedCertificate certificate, DevCertificateAuthority trusted) {
        return MtlsContext.client(CredentialSource.fixed(TlsIdentity.of(certificate.privateKey(), certificate.chain()),
                TrustBundle.of(List.of(trusted.rootCertificate())))).expectedServer(API).build().sslContext();
    }

    private static HttpClient client(SSLContext tls) {
        return HttpClient.newBuilder().sslContext(tls).connectTimeout(Duration.ofSeconds(10)).build();
    }

    private static void check(boolean passed, String what) {
        if (!passed) {
            System.err.println("boot consumer: FAILED: " + what);
            System.exit(1);
        }
        System.out.println("boot consumer: ok: " + what);
    }
}
