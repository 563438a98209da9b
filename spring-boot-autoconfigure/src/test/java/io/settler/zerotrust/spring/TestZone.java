package io.settler.zerotrust.spring;

import static org.assertj.core.api.Assertions.assertThat;

import io.settler.zerotrust.audit.AuditEvent;
import io.settler.zerotrust.audit.CoreAudit;
import io.settler.zerotrust.credentials.CredentialSource;
import io.settler.zerotrust.credentials.TlsIdentity;
import io.settler.zerotrust.credentials.TrustBundle;
import io.settler.zerotrust.pki.DevCertificateAuthority;
import io.settler.zerotrust.pki.IssuedCertificate;
import io.settler.zerotrust.testkit.RecordingAuditLog;
import io.settler.zerotrust.tls.MtlsContext;
import io.settler.zerotrust.token.KeySet;
import io.settler.zerotrust.token.ServiceTokens;
import io.settler.zerotrust.token.TokenAlgorithm;
import io.settler.zerotrust.token.TokenKey;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.ssl.SslAutoConfiguration;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

/**
 * A trust domain on disk for the tests: a development CA, the api service's certificate files, a
 * policy where api accepts the gateway only and stock accepts api, and the gateway's and worker's
 * published token keys.
 */
final class TestZone {

    static final String DOMAIN = "example.org";
    static final String API = "spiffe://example.org/api";
    static final String POLICY = """
            {"trustDomain": "example.org", "services": {
              "api": {"scopes": ["stock:read"], "accepts": [{"service": "gateway"}]},
              "stock": {"scopes": [], "accepts": [{"service": "api"}]},
              "gateway": {"scopes": ["orders:read", "orders:write"]},
              "worker": {"scopes": ["orders:read"]}}}""";

    /** The property that keeps Boot from making a DataSource and a Redis client in applications without them. */
    static final String NO_DATA_SOURCE = "spring.autoconfigure.exclude";

    final Path directory;
    final DevCertificateAuthority ca;
    /** The api service's SPIFFE ID in this zone's trust domain. */
    final String api;
    final IssuedCertificate gateway;
    final IssuedCertificate worker;
    final KeySet gatewayKeys = KeySet.builder().signingKey(TokenKey.generate(TokenAlgorithm.ES256, "gw-1")).build();
    final KeySet workerKeys = KeySet.builder().signingKey(TokenKey.generate(TokenAlgorithm.ES256, "wk-1")).build();
    final ServiceTokens gatewayTokens;
    final ServiceTokens workerTokens;

    TestZone(Path directory) {
        this(directory, DevCertificateAuthority.create(DOMAIN));
    }

    /** A zone of {@code ca}'s trust domain, e.g. the testkit's shared CA, whose servers then trust api. */
    TestZone(Path directory, DevCertificateAuthority ca) {
        this.directory = directory;
        this.ca = ca;
        String domain = ca.trustDomain().name();
        this.api = "spiffe://" + domain + "/api";
        this.gateway = ca.leaf("gateway").client().issue();
        this.worker = ca.leaf("worker").client().issue();
        this.gatewayTokens = ServiceTokens.builder().identity("spiffe://" + domain + "/gateway").keys(gatewayKeys)
                .build();
        this.workerTokens = ServiceTokens.builder().identity("spiffe://" + domain + "/worker").keys(workerKeys).build();
        try {
            issueApi();
            Files.writeString(directory.resolve("policy.json"),
                    POLICY.replace("\"trustDomain\": \"" + DOMAIN + "\"", "\"trustDomain\": \"" + domain + "\""));
            Files.writeString(directory.resolve("gateway.jwks.json"), gatewayKeys.toJwks());
            Files.writeString(directory.resolve("worker.jwks.json"), workerKeys.toJwks());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Issues api a new certificate and writes it over its files; returns it. */
    IssuedCertificate issueApi() {
        IssuedCertificate api = ca.leaf("api").serverAndClient().dnsNames("localhost").ipAddresses("127.0.0.1")
                .validity(Duration.ofHours(1)).issue();
        api.writePem(directory, "api");
        return api;
    }

    /** The properties of a working api service. */
    Map<String, Object> properties() {
        Map<String, Object> properties = new LinkedHashMap<>();
        properties.put("server.port", "0");
        properties.put("server.address", "127.0.0.1");
        properties.put("zerotrust.service", "api");
        properties.put("zerotrust.policy", "file:" + directory.resolve("policy.json"));
        properties.put("zerotrust.credentials.certificate", directory.resolve("api.crt").toString());
        properties.put("zerotrust.credentials.key", directory.resolve("api.key").toString());
        properties.put("zerotrust.credentials.trust", directory.resolve("ca.crt").toString());
        properties.put("zerotrust.tokens.issuers.gateway.jwks", "file:" + directory.resolve("gateway.jwks.json"));
        properties.put("zerotrust.tokens.issuers.worker.jwks", "file:" + directory.resolve("worker.jwks.json"));
        properties.put("spring.main.banner-mode", "off");
        // The test class path has spring-boot-starter-jdbc and Boot's Redis (for ZeroTrustPostgresTest and
        // ZeroTrustRedisTest): without a database of their own, the other applications would fail on Boot's
        // DataSource, as any Boot application would, and get a Redis client of localhost:6379.
        properties.put(NO_DATA_SOURCE, "org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration,"
                + "org.springframework.boot.data.redis.autoconfigure.DataRedisAutoConfiguration");
        return properties;
    }

    /**
     * The library's beans without a web server, with {@link #properties()} less {@code removed} and
     * plus {@code changes}: a context that starts in a fraction of a second.
     */
    ApplicationContextRunner runner(Map<String, String> changes, String... removed) {
        Map<String, Object> properties = properties();
        for (String key : removed) {
            properties.remove(key);
        }
        properties.putAll(changes);
        ApplicationContextRunner runner = new ApplicationContextRunner().withConfiguration(
                AutoConfigurations.of(SslAutoConfiguration.class, ZeroTrustAutoConfiguration.class,
                        ZeroTrustClientAutoConfiguration.class));
        for (Map.Entry<String, Object> property : properties.entrySet()) {
            runner = runner.withPropertyValues(property.getKey() + "=" + property.getValue());
        }
        return runner;
    }

    /**
     * Asserts that a handshake the TLS stack refused before the library's checks was audited once, as
     * {@code peer.refused} with {@code reason}: the server records it when its side of the failure
     * reaches it, which may be just after the client saw the alert, and must not record it again as the
     * alert goes out. Each test refuses for its own reason.
     *
     * @return the event, for the fields that differ between servers (Tomcat knows no peer address)
     */
    static AuditEvent assertRefusalAuditedOnce(RecordingAuditLog audit, String reason) {
        AuditEvent refusal = audit.await(CoreAudit.PEER_REFUSED, RecordingAuditLog.field("reason", reason),
                Duration.ofSeconds(5));
        assertThat(refusal.fields()).containsEntry("role", "client").containsEntry("fingerprint", "none");
        assertThat(audit.withAction(CoreAudit.PEER_REFUSED))
                .filteredOn(event -> reason.equals(event.fields().get("reason"))).hasSize(1);
        return refusal;
    }

    /** A client context presenting {@code client}, trusting {@code trusted}, requiring the api's identity. */
    static MtlsContext.Builder client(IssuedCertificate client, DevCertificateAuthority trusted) {
        return client(client, trusted, API);
    }

    /** A client context presenting {@code client}, trusting {@code trusted}, requiring the server {@code api}. */
    static MtlsContext.Builder client(IssuedCertificate client, DevCertificateAuthority trusted, String api) {
        return MtlsContext.client(CredentialSource.fixed(TlsIdentity.of(client.privateKey(), client.chain()),
                TrustBundle.of(List.of(trusted.rootCertificate())))).expectedServer(api);
    }
}
