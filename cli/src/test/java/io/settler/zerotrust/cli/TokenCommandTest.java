package io.settler.zerotrust.cli;

import static io.settler.zerotrust.cli.ZtRun.inProcess;
import static io.settler.zerotrust.cli.ZtRun.process;
import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsParameters;
import com.sun.net.httpserver.HttpsServer;
import io.settler.zerotrust.authz.PeerAuthorizer;
import io.settler.zerotrust.authz.PeerRule;
import io.settler.zerotrust.credentials.CredentialSource;
import io.settler.zerotrust.credentials.TlsIdentity;
import io.settler.zerotrust.credentials.TrustBundle;
import io.settler.zerotrust.identity.ServiceIdentity;
import io.settler.zerotrust.pki.DevCertificateAuthority;
import io.settler.zerotrust.pki.IssuedCertificate;
import io.settler.zerotrust.tls.MtlsContext;
import io.settler.zerotrust.token.KeySet;
import io.settler.zerotrust.token.ServiceTokens;
import io.settler.zerotrust.token.TokenAlgorithm;
import io.settler.zerotrust.token.TokenKey;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TokenCommandTest {

    private static final String API = "spiffe://example.org/api";
    private static final String DB = "spiffe://example.org/orders-db";
    private static final KeySet KEYS = KeySet.builder().signingKey(TokenKey.generate(TokenAlgorithm.ES256, "api-1"))
            .build();

    private static final DevCertificateAuthority CA = DevCertificateAuthority.create("example.org");
    private static final String OPERATOR = "spiffe://example.org/operator";
    private static HttpsServer jwksServer;

    @TempDir
    Path dir;

    /**
     * The issuer's JWKS served as the library's services serve it: HTTPS on loopback with core's
     * MtlsContext, a client certificate required, only the operator admitted.
     */
    @BeforeAll
    static void serveTheJwksOverMutualTls() throws Exception {
        IssuedCertificate serverCert = CA.leaf("api").server().ipAddresses("127.0.0.1").issue();
        MtlsContext tls = MtlsContext.server(CredentialSource.fixed(TlsIdentity.of(serverCert.privateKey(),
                serverCert.chain()), TrustBundle.of(List.of(CA.rootCertificate()))), PeerAuthorizer.builder()
                .allow(PeerRule.identity(ServiceIdentity.parse(OPERATOR))).build()).build();
        jwksServer = HttpsServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        jwksServer.setHttpsConfigurator(new HttpsConfigurator(tls.sslContext()) {
            @Override
            public void configure(HttpsParameters params) {
                params.setSSLParameters(tls.sslParameters());
            }
        });
        jwksServer.createContext("/jwks", exchange -> {
            byte[] body = KEYS.toJwks().getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        jwksServer.start();
    }

    @AfterAll
    static void stopTheJwksServer() {
        jwksServer.stop(0);
    }

    private static String jwksUrl() {
        return "https://127.0.0.1:" + jwksServer.getAddress().getPort() + "/jwks";
    }

    /** The operator's certificate and key, and the CA as the JWKS trust. */
    private Object[] operatorCredentials() {
        CA.leaf("operator").client().issue().writePem(dir, "operator");
        return new Object[] {"--cert", dir.resolve("operator.crt"), "--key", dir.resolve("operator.key")};
    }

    private static String mint(KeySet keys, Clock clock, String audience) {
        return ServiceTokens.builder().identity(API).keys(keys).clock(clock).auditLog(event -> { }).build()
                .mint(audience, List.of("db:read"));
    }

    private Path jwks() throws Exception {
        return Files.writeString(dir.resolve("api.jwks"), KEYS.toJwks());
    }

    @Test
    void inspectDecodesAndSaysItDidNotVerify() throws Exception {
        ZtRun.Result result = process("token", "inspect", mint(KEYS, Clock.systemUTC(), DB));
        assertThat(result.exit()).as(result.toString()).isZero();
        assertThat(result.out().lines().findFirst().orElseThrow()).startsWith("NOT VERIFIED");
        assertThat(result.out()).contains("\"kid\" : \"api-1\"").contains("\"aud\" : \"" + DB + "\"")
                .contains("exp: ");
    }

    @Test
    void inspectRefusesWhatIsNotAToken() throws Exception {
        ZtRun.Result result = inProcess("token", "inspect", "not-a-token");
        assertThat(result.exit()).as(result.toString()).isEqualTo(2);
        assertThat(result.err().strip()).doesNotContain("\n").contains("not a compact JWS");
    }

    @Test
    void verifyAcceptsATokenForTheAudience() throws Exception {
        ZtRun.Result result = process("token", "verify", mint(KEYS, Clock.systemUTC(), DB), "--jwks", jwks(),
                "--audience", DB, "--issuer", API, "--scope", "db:read");
        assertThat(result.exit()).as(result.toString()).isZero();
        assertThat(result.out()).startsWith("ACCEPTED: " + API + " -> " + DB);
    }

    @Test
    void verifyReadsTheTokenFromAFile() throws Exception {
        Path token = Files.writeString(dir.resolve("token"), mint(KEYS, Clock.systemUTC(), DB));
        ZtRun.Result result = inProcess("token", "verify", "@" + token, "--jwks", jwks(), "--audience", DB,
                "--issuer", API);
        assertThat(result.exit()).as(result.toString()).isZero();
    }

    @Test
    void verifyRefusesTheWrongAudience() throws Exception {
        ZtRun.Result result = inProcess("token", "verify", mint(KEYS, Clock.systemUTC(), "spiffe://example.org/other"),
                "--jwks", jwks(), "--audience", DB, "--issuer", API);
        assertThat(result.exit()).as(result.toString()).isEqualTo(1);
        assertThat(result.out()).startsWith("REFUSED WRONG_AUDIENCE: ");
    }

    @Test
    void verifyRefusesAnExpiredToken() throws Exception {
        Clock hourAgo = Clock.fixed(Instant.now().minus(Duration.ofHours(1)), ZoneOffset.UTC);
        ZtRun.Result result = inProcess("token", "verify", mint(KEYS, hourAgo, DB), "--jwks", jwks(),
                "--audience", DB, "--issuer", API);
        assertThat(result.exit()).as(result.toString()).isEqualTo(1);
        assertThat(result.out()).startsWith("REFUSED EXPIRED: ");
    }

    @Test
    void verifyRefusesAForgedToken() throws Exception {
        KeySet forger = KeySet.builder().signingKey(TokenKey.generate(TokenAlgorithm.ES256, "api-1")).build();
        ZtRun.Result result = inProcess("token", "verify", mint(forger, Clock.systemUTC(), DB), "--jwks", jwks(),
                "--audience", DB, "--issuer", API);
        assertThat(result.exit()).as(result.toString()).isEqualTo(1);
        assertThat(result.out()).startsWith("REFUSED BAD_SIGNATURE: ");
    }

    @Test
    void verifyRefusesAMissingScope() throws Exception {
        ZtRun.Result result = inProcess("token", "verify", mint(KEYS, Clock.systemUTC(), DB), "--jwks", jwks(),
                "--audience", DB, "--issuer", API, "--scope", "db:write");
        assertThat(result.exit()).as(result.toString()).isEqualTo(1);
        assertThat(result.out()).startsWith("REFUSED INSUFFICIENT_SCOPE: ");
    }

    @Test
    void verifyFetchesTheJwksFromAnHttpsUrlOverMutualTls() throws Exception {
        List<Object> args = new ArrayList<>(List.of("token", "verify", mint(KEYS, Clock.systemUTC(), DB),
                "--jwks", jwksUrl(), "--jwks-trust", dir.resolve("ca.crt"), "--audience", DB, "--issuer", API));
        args.addAll(List.of(operatorCredentials()));
        ZtRun.Result result = process(args.toArray());
        assertThat(result.exit()).as(result.toString()).isZero();
        assertThat(result.out()).startsWith("ACCEPTED: " + API + " -> " + DB);
    }

    @Test
    void verifyCannotCheckAJwksServerOutsideTheTrustBundle() throws Exception {
        Object[] credentials = operatorCredentials();
        Path otherCa = DevCertificateAuthority.create("example.org").writeCaBundle(dir.resolve("other-ca.crt"));
        List<Object> args = new ArrayList<>(List.of("token", "verify", mint(KEYS, Clock.systemUTC(), DB),
                "--jwks", jwksUrl(), "--jwks-trust", otherCa, "--audience", DB, "--issuer", API));
        args.addAll(List.of(credentials));
        ZtRun.Result result = inProcess(args.toArray());
        assertThat(result.exit()).as(result.toString()).isEqualTo(3);
        assertThat(result.out()).isEmpty();
        assertThat(result.err().strip()).doesNotContain("\n").startsWith("zt: could not check: ")
                .contains(jwksUrl());
        // Without --jwks-trust: the JDK's anchors, none of which issued the development CA.
        args.subList(5, 7).clear();
        assertThat(args).doesNotContain("--jwks-trust");
        ZtRun.Result jdkTrust = inProcess(args.toArray());
        assertThat(jdkTrust.exit()).as(jdkTrust.toString()).isEqualTo(3);
        assertThat(jdkTrust.err().strip()).doesNotContain("\n").startsWith("zt: could not check: ");
    }

    @Test
    void verifyRefusesAJwksUrlThatIsNotHttps() throws Exception {
        String token = mint(KEYS, Clock.systemUTC(), DB);
        for (String url : List.of("http://127.0.0.1:" + jwksServer.getAddress().getPort() + "/jwks",
                "file:///etc/passwd", "ftp://127.0.0.1/jwks")) {
            ZtRun.Result result = inProcess("token", "verify", token, "--jwks", url, "--audience", DB, "--issuer", API);
            assertThat(result.exit()).as(result.toString()).isEqualTo(2);
            assertThat(result.err().strip()).doesNotContain("\n").contains("--jwks takes a file or an https://");
        }
        ZtRun.Result noCertificate = inProcess("token", "verify", token, "--jwks", jwksUrl(), "--jwks-trust",
                CA.writeCaBundle(dir.resolve("ca.crt")), "--audience", DB, "--issuer", API);
        assertThat(noCertificate.exit()).as(noCertificate.toString()).isEqualTo(2);
        assertThat(noCertificate.err().strip()).doesNotContain("\n").contains("--cert");
    }

    @Test
    void usageErrorsExitTwo() throws Exception {
        String token = mint(KEYS, Clock.systemUTC(), DB);
        ZtRun.Result noJwks = inProcess("token", "verify", token, "--audience", DB, "--issuer", API);
        assertThat(noJwks.exit()).as(noJwks.toString()).isEqualTo(2);
        assertThat(noJwks.err()).contains("--jwks");
        Path notJwks = Files.writeString(dir.resolve("bad.jwks"), "{\"keys\": 3}");
        ZtRun.Result badJwks = inProcess("token", "verify", token, "--jwks", notJwks, "--audience", DB,
                "--issuer", API);
        assertThat(badJwks.exit()).as(badJwks.toString()).isEqualTo(2);
        assertThat(badJwks.err().strip()).doesNotContain("\n").contains("bad.jwks is refused");
        ZtRun.Result badAudience = inProcess("token", "verify", token, "--jwks", jwks(), "--audience", "orders-db",
                "--issuer", API);
        assertThat(badAudience.exit()).as(badAudience.toString()).isEqualTo(2);
        assertThat(badAudience.err()).doesNotContain("\tat ");
    }
}
