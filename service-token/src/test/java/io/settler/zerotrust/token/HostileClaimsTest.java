package io.settler.zerotrust.token;

import static io.settler.zerotrust.token.TestKeys.API;
import static io.settler.zerotrust.token.TestKeys.PROXY;
import static org.assertj.core.api.Assertions.assertThat;

import io.settler.zerotrust.pki.IssuedCertificate;
import io.settler.zerotrust.pki.KeyAlgorithm;
import io.settler.zerotrust.testkit.MutableClock;
import io.settler.zerotrust.testkit.RecordingAuditLog;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Correctly signed tokens whose every claim is drawn from hostile values (extreme, negative,
 * fractional, huge and non-numeric dates; wrong JSON types; empty, huge and control-character
 * strings; odd scopes and confirmations): whatever the claim set, {@code verify} ends in a
 * {@link TokenRejectedException} or a {@link VerifiedToken}, never in another exception, and every
 * rejection is an audit event. Fixed seed and count, so bounded and repeatable.
 */
class HostileClaimsTest {

    private static final long SEED = 0x14_07L;
    private static final int ROUNDS = 20_000;
    private static final String LONG_TEXT = "x".repeat(3_000);

    private final MutableClock clock = new MutableClock();
    private final long now = clock.instant().getEpochSecond();
    private final TokenKey hs = TestKeys.hs256("hs-1");
    private final IssuedCertificate peer = TestKeys.leaf("api", KeyAlgorithm.EC_P256);

    private final String[] identities = {json(API), json(PROXY), json(""), json(API + "\n"), json(LONG_TEXT),
        "\"\\u0000\"", "\"\\ud800\"", "1", "null", "true", "[]", "{}", "[" + json(API) + "]"};
    private final String[] audiences = {json(PROXY), "[" + json(PROXY) + "]", "[" + json(PROXY) + "," + json(API) + "]",
        "[]", "1", "null", "{}", json(PROXY + "/x"), "[1]"};
    private final String[] dates = {String.valueOf(now), String.valueOf(now + 60), String.valueOf(now - 60),
        String.valueOf(now + 3_600), String.valueOf(now - 100_000), String.valueOf(Long.MAX_VALUE),
        String.valueOf(Long.MIN_VALUE), String.valueOf(Long.MAX_VALUE - 30), String.valueOf(Long.MIN_VALUE + 1), "-1",
        "0", "-0", String.valueOf(TokenJson.MAX_NUMERIC_DATE), String.valueOf(TokenJson.MAX_NUMERIC_DATE + 1),
        "31556889864403199", "-31557014167219200", "9223372036854775808", "1.5", now + ".5", "1e308", "-1e308",
        "1e400", "4.9e-324", "\"" + now + "\"", "null", "true", "[]", "{}", "99999999999999999999999"};
    private final String[] jtis = {"\"j\"", "\"\"", json(LONG_TEXT), "1", "null", "[]"};
    private final String[] scopes = {"[]", "[\"db:read\"]", "[\"a\",\"a\"]", "\"db:read\"", "[1]", "[[]]", "null",
        "[" + "\"s\",".repeat(300) + "\"s\"]", "{}"};
    private final String[] confirmations = {"{\"x5t#S256\":" + json(ServiceTokens.thumbprint(peer.certificate())) + "}",
        "{\"x5t#S256\":\"abc\"}", "{\"x5t#S256\":1}", "{}", "\"s\"", "{\"jkt\":\"x\"}", "null",
        "{\"x5t#S256\":\"a\",\"x5t#S256\":\"b\"}"};
    private final String[] extras = {"\"tenant\":\"t\"", "\"x\":{\"a\":[1,2,{\"b\":null}]}", "\"y\":1e400",
        "\"z\":" + "[".repeat(20) + "]".repeat(20), "\"\":\"\"", "\"tenant\":\"\\u0000\\n\""};

    @Test
    void nothingButTokenRejectedExceptionEscapesVerifyForAnySignedClaimSet() {
        RecordingAuditLog audit = new RecordingAuditLog();
        ServiceTokens proxy = ServiceTokens.builder().identity(PROXY).verificationKeys(KeySet.of(hs)).trustIssuers(API)
                .clock(clock).replayGuard(InMemoryReplayGuard.create(1_000, clock)).auditLog(audit).build();
        Random random = new Random(SEED);
        Map<TokenRejectedException.Reason, Integer> reasons = new EnumMap<>(TokenRejectedException.Reason.class);
        int accepted = 0;
        for (int round = 0; round < ROUNDS; round++) {
            String token = TestKeys.forge(hs, "{\"alg\":\"HS256\",\"kid\":\"hs-1\",\"typ\":\"svc+jwt\"}",
                    claims(random));
            X509Certificate certificate = random.nextBoolean() ? peer.certificate() : null;
            int events = audit.events().size();
            try {
                VerifiedToken verified = certificate == null ? proxy.verify(token) : proxy.verify(token, certificate);
                assertThat(verified.service()).hasToString(API).isEqualTo(verified.issuer());
                assertThat(audit.events()).hasSize(events + 1);
                assertThat(audit.events().get(events).kind()).isEqualTo(TokenAudit.VERIFIED);
                accepted++;
            } catch (TokenRejectedException e) {
                reasons.merge(e.reason(), 1, Integer::sum);
                assertThat(audit.events()).hasSize(events + 1);
                assertThat(audit.events().get(events).kind()).isEqualTo(TokenAudit.REJECTED);
                assertThat(audit.events().get(events).fields()).containsEntry("reason", e.reason().name());
            }
        }
        assertThat(accepted).as("some claim sets are valid, so the checks past parsing ran").isPositive();
        assertThat(reasons).containsKeys(TokenRejectedException.Reason.MALFORMED, TokenRejectedException.Reason.EXPIRED,
                TokenRejectedException.Reason.NOT_YET_VALID, TokenRejectedException.Reason.LIFETIME_TOO_LONG,
                TokenRejectedException.Reason.WRONG_ISSUER, TokenRejectedException.Reason.WRONG_AUDIENCE,
                TokenRejectedException.Reason.CERTIFICATE_MISMATCH);
    }

    /** A claim set where each claim is usually present, usually plausible, and often hostile. */
    private String claims(Random random) {
        List<String> members = new ArrayList<>();
        add(random, members, "iss", random.nextInt(3) == 0 ? pick(random, identities) : json(API));
        add(random, members, "sub", random.nextInt(3) == 0 ? pick(random, identities) : json(API));
        add(random, members, "aud", random.nextInt(3) == 0 ? pick(random, audiences) : json(PROXY));
        add(random, members, "iat", random.nextInt(3) == 0 ? pick(random, dates)
                : String.valueOf(random.nextBoolean() ? now : now - 120));
        add(random, members, "exp", random.nextInt(3) == 0 ? pick(random, dates)
                : String.valueOf(random.nextBoolean() ? now + 60 : now - 60));
        if (random.nextInt(3) == 0) {
            members.add("\"nbf\":" + pick(random, dates));
        }
        add(random, members, "jti", random.nextInt(3) == 0 ? pick(random, jtis) : json("j-" + random.nextInt(50)));
        add(random, members, "scope", random.nextInt(3) == 0 ? pick(random, scopes) : "[\"db:read\"]");
        if (random.nextInt(4) == 0) {
            members.add("\"cnf\":" + pick(random, confirmations));
        }
        if (random.nextInt(4) == 0) {
            members.add(pick(random, extras));
        }
        java.util.Collections.shuffle(members, random);
        return "{" + String.join(",", members) + "}";
    }

    private static void add(Random random, List<String> members, String name, String value) {
        if (random.nextInt(12) != 0) {
            members.add("\"" + name + "\":" + value);
        }
    }

    private static String pick(Random random, String[] values) {
        return values[random.nextInt(values.length)];
    }

    private static String json(String text) {
        return "\"" + text.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n") + "\"";
    }
}
