package io.settler.zerotrust.token;

import static io.settler.zerotrust.token.TestKeys.API;
import static io.settler.zerotrust.token.TestKeys.PROXY;
import static org.assertj.core.api.Assertions.assertThat;

import io.settler.zerotrust.audit.AuditLog;
import io.settler.zerotrust.testkit.MutableClock;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Throws 24 000 mutated and random tokens at verify (fixed seed, fixed count: bounded by
 * construction): every one must end in a {@link TokenRejectedException}, never in another
 * exception, and none but the untouched originals may verify.
 */
class FuzzVerifyTest {

    private static final long SEED = 0x5e771e4L;
    private static final int ROUNDS = 24_000;
    private static final String ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    private static final String[] JSON_BITS = {"{", "}", "[", "]", ",", ":", "\"", "\"alg\"", "\"HS256\"", "\"kid\"",
        "\"hs-1\"", "\"typ\"", "\"svc+jwt\"", "\"exp\"", "\"iat\"", "\"aud\"", "\"scope\"", "\"cnf\"", "1e309", "-0",
        "9999999999999999999999", "null", "true", "\"\\u0000\"", "\"\\ud800\"", " ", "\u00ff", "1.5", "[[[[",
        "{\"a\":"};

    private final MutableClock clock = new MutableClock();
    private final TokenKey hs = TestKeys.hs256("hs-1");
    private final TokenKey es = TestKeys.es256("es-1");
    private final TokenKey ed = TestKeys.ed25519("ed-1");

    @Test
    void onlyTokenRejectedExceptionComesOut() {
        ServiceTokens proxy = ServiceTokens.builder().identity(PROXY).trustIssuers(API).clock(clock)
                .verificationKeys(KeySet.builder().add(hs).add(es.verifyOnly()).add(ed.verifyOnly())
                        .allowSecretAndPublicKeys().build())
                .auditLog(AuditLog.slf4j()) // the log-scanning IT reads what this wrote
                .build();
        List<String> originals = new ArrayList<>();
        for (TokenKey key : List.of(hs, es, ed)) {
            ServiceTokens minter = ServiceTokens.builder().identity(API).signingKey(key).clock(clock).build();
            originals.add(minter.mint(PROXY, List.of("db:read")));
            originals.add(minter.mint(TokenRequest.to(PROXY).scopes("a", "b").claim("tenant", "t").build()));
        }
        Random random = new Random(SEED);
        Map<TokenRejectedException.Reason, Integer> reasons = new EnumMap<>(TokenRejectedException.Reason.class);
        int accepted = 0;
        for (int round = 0; round < ROUNDS; round++) {
            String original = originals.get(random.nextInt(originals.size()));
            String token = candidate(random, original, round % 4);
            try {
                proxy.verify(token);
                assertThat(originals).as("only an untouched or a correctly re-signed token verifies")
                        .contains(token);
                accepted++;
            } catch (TokenRejectedException e) {
                reasons.merge(e.reason(), 1, Integer::sum);
                assertThat(e.getMessage()).doesNotContain(original.substring(original.lastIndexOf('.') + 1));
            }
        }
        assertThat(accepted + reasons.values().stream().mapToInt(Integer::intValue).sum()).isEqualTo(ROUNDS);
        assertThat(reasons).containsKeys(TokenRejectedException.Reason.MALFORMED,
                TokenRejectedException.Reason.BAD_SIGNATURE);
    }

    private String candidate(Random random, String original, int kind) {
        switch (kind) {
            case 0:
                return mutate(random, original);
            case 1:
                return randomSegments(random);
            case 2:
                // a valid HMAC over random JSON-ish header and payload: exercises the JSON readers past the signature
                return TestKeys.forge(hs, random.nextInt(4) == 0 ? jsonish(random)
                        : "{\"alg\":\"HS256\",\"kid\":\"hs-1\",\"typ\":\"svc+jwt\"}", jsonish(random));
            default:
                return mutate(random, mutate(random, original));
        }
    }

    private static String mutate(Random random, String token) {
        StringBuilder text = new StringBuilder(token);
        int at = random.nextInt(text.length());
        switch (random.nextInt(8)) {
            case 0:
                text.setCharAt(at, ALPHABET.charAt(random.nextInt(ALPHABET.length())));
                break;
            case 1:
                text.insert(at, (char) random.nextInt(256));
                break;
            case 2:
                text.deleteCharAt(at);
                break;
            case 3:
                text.setLength(at);
                break;
            case 4:
                text.insert(at, '.');
                break;
            case 5:
                text.append('=');
                break;
            case 6:
                String[] parts = token.split("\\.", -1);
                return parts.length == 3 ? parts[1] + "." + parts[0] + "." + parts[2] : token + token;
            default:
                text.replace(at, Math.min(text.length(), at + 4), "AAAA");
        }
        return text.toString();
    }

    private static String randomSegments(Random random) {
        StringBuilder text = new StringBuilder();
        int length = random.nextInt(400);
        for (int i = 0; i < length; i++) {
            int pick = random.nextInt(70);
            text.append(pick < 64 ? ALPHABET.charAt(pick) : pick < 68 ? '.' : '=');
        }
        return text.toString();
    }

    private static String jsonish(Random random) {
        StringBuilder json = new StringBuilder("{");
        int parts = random.nextInt(12);
        for (int i = 0; i < parts; i++) {
            json.append(JSON_BITS[random.nextInt(JSON_BITS.length)]);
        }
        if (random.nextBoolean()) {
            json.append('}');
        }
        return new String(json.toString().getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8);
    }
}
