package io.settler.zerotrust.cli;

import static io.settler.zerotrust.cli.ZtRun.inProcess;
import static io.settler.zerotrust.cli.ZtRun.process;
import static org.assertj.core.api.Assertions.assertThat;

import io.settler.zerotrust.token.KeySet;
import io.settler.zerotrust.token.ServiceTokens;
import io.settler.zerotrust.token.TokenAlgorithm;
import io.settler.zerotrust.token.TokenKey;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TokenCommandTest {

    private static final String API = "spiffe://example.org/api";
    private static final String DB = "spiffe://example.org/orders-db";
    private static final KeySet KEYS = KeySet.builder().signingKey(TokenKey.generate(TokenAlgorithm.ES256, "api-1"))
            .build();

    @TempDir
    Path dir;

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
