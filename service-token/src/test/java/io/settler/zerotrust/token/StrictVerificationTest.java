package io.settler.zerotrust.token;

import static io.settler.zerotrust.token.ServiceTokensTest.assertRejected;
import static io.settler.zerotrust.token.TestKeys.API;
import static io.settler.zerotrust.token.TestKeys.PROXY;
import static io.settler.zerotrust.token.TestKeys.b64;
import static io.settler.zerotrust.token.TestKeys.forge;
import static org.assertj.core.api.Assertions.assertThat;

import io.settler.zerotrust.testkit.MutableClock;
import io.settler.zerotrust.testkit.RecordingAuditLog;
import io.settler.zerotrust.token.TokenRejectedException.Reason;
import java.nio.charset.StandardCharsets;
import java.security.PrivateKey;
import java.security.Signature;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Each test forges a token the way an attacker or a lenient library would, and expects one reason. */
class StrictVerificationTest {

    private final MutableClock clock = new MutableClock();
    private final TokenKey hs = TestKeys.hs256("hs-1");
    private final TokenKey es = TestKeys.es256("es-1");
    private final TokenKey ed = TestKeys.ed25519("ed-1");
    private final ServiceTokens hsProxy = verifier(KeySet.of(hs));
    private final ServiceTokens pkProxy = verifier(KeySet.of(es.verifyOnly(), ed.verifyOnly()));

    private ServiceTokens verifier(KeySet keys) {
        return ServiceTokens.builder().identity(PROXY).verificationKeys(keys).trustIssuers(API).clock(clock)
                .auditLog(event -> { }).build();
    }

    private String header(String alg, String kid) {
        return "{\"alg\":\"" + alg + "\",\"kid\":\"" + kid + "\",\"typ\":\"svc+jwt\"}";
    }

    private String claims() {
        long now = clock.instant().getEpochSecond();
        return claims("\"exp\":" + (now + 300) + ",\"iat\":" + now);
    }

    private String claims(String times) {
        return "{\"iss\":\"" + API + "\",\"sub\":\"" + API + "\",\"aud\":\"" + PROXY + "\"," + times
                + ",\"jti\":\"j-1\",\"scope\":[\"db:read\"]}";
    }

    private String valid() {
        return forge(hs, header("HS256", "hs-1"), claims());
    }

    @Test
    void acceptsAWellFormedForgedToken() {
        assertThat(hsProxy.verify(valid(), "db:read").jti()).isEqualTo("j-1");
        assertThat(pkProxy.verify(forge(es, header("ES256", "es-1"), claims())).keyId()).isEqualTo("es-1");
        assertThat(pkProxy.verify(forge(ed, header("EdDSA", "ed-1"), claims())).keyId()).isEqualTo("ed-1");
    }

    @Test
    void refusesOversizedTokenBeforeParsing() {
        String huge = "a".repeat(8 * 1024 + 1);
        assertRejected(() -> hsProxy.verify(huge), Reason.TOO_LARGE, null);
        String bigHeader = forge(hs, "{\"alg\":\"HS256\",\"kid\":\"hs-1\",\"typ\":\"svc+jwt\",\"x\":\""
                + "y".repeat(9000) + "\"}", claims());
        assertRejected(() -> hsProxy.verify(bigHeader), Reason.TOO_LARGE, null);
    }

    @Test
    void refusesMissingOrEmptyToken() {
        assertRejected(() -> hsProxy.verify(null), Reason.MALFORMED, null);
        assertRejected(() -> hsProxy.verify(""), Reason.MALFORMED, null);
    }

    @Test
    void refusesTokenWithTwoOrFourSegments() {
        String token = valid();
        assertRejected(() -> hsProxy.verify(token.substring(0, token.lastIndexOf('.'))), Reason.MALFORMED, null);
        assertRejected(() -> hsProxy.verify(token + ".e30"), Reason.MALFORMED, null);
        assertRejected(() -> hsProxy.verify(".." + token), Reason.MALFORMED, null);
    }

    @Test
    void refusesPaddedBase64() {
        String token = valid(); // a 32-byte HMAC is 43 characters: canonical form has no '='
        assertRejected(() -> hsProxy.verify(token + "="), Reason.MALFORMED, null);
        String[] parts = token.split("\\.");
        String paddedHeader = parts[0] + "=".repeat((4 - parts[0].length() % 4) % 4);
        if (!paddedHeader.equals(parts[0])) {
            assertRejected(() -> hsProxy.verify(paddedHeader + "." + parts[1] + "." + parts[2]), Reason.MALFORMED,
                    null);
        }
    }

    @Test
    void refusesNonCanonicalTrailingBits() {
        String token = valid();
        char last = token.charAt(token.length() - 1);
        // 43 characters carry 258 bits for 256: the two low bits of the last one must be zero.
        String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        char sibling = alphabet.charAt(alphabet.indexOf(last) | 1);
        String tampered = token.substring(0, token.length() - 1) + sibling;
        assertThat(java.util.Base64.getUrlDecoder().decode(tampered.substring(tampered.lastIndexOf('.') + 1)))
                .as("the JDK decoder accepts it").hasSize(32);
        assertRejected(() -> hsProxy.verify(tampered), Reason.MALFORMED, null);
    }

    @ParameterizedTest
    @ValueSource(strings = {" ", "\n", "+", "/", "%", "\u00e9"})
    void refusesStrayCharacters(String stray) {
        String token = valid();
        int at = token.indexOf('.') + 3;
        assertRejected(() -> hsProxy.verify(token.substring(0, at) + stray + token.substring(at)), Reason.MALFORMED,
                null);
    }

    @ParameterizedTest
    @ValueSource(strings = {"crit", "jku", "jwk", "x5u", "x5c", "zip", "b64", "cty"})
    void refusesHeaderMembersOutsideTheAllowList(String member) {
        String token = forge(hs, "{\"alg\":\"HS256\",\"kid\":\"hs-1\",\"typ\":\"svc+jwt\",\"" + member
                + "\":\"x\"}", claims());
        assertRejected(() -> hsProxy.verify(token), Reason.MALFORMED, token);
    }

    @Test
    void rejectsTokenSignedWithNone() {
        String token = b64("{\"alg\":\"none\",\"kid\":\"hs-1\",\"typ\":\"svc+jwt\"}") + "." + b64(claims()) + ".";
        assertRejected(() -> hsProxy.verify(token), Reason.UNSUPPORTED_ALGORITHM, token);
        String withoutKid = b64("{\"alg\":\"none\",\"typ\":\"svc+jwt\"}") + "." + b64(claims()) + ".";
        assertRejected(() -> hsProxy.verify(withoutKid), Reason.UNSUPPORTED_ALGORITHM, withoutKid);
    }

    @Test
    void refusesAlgorithmNotPinnedToTheKey() {
        // the classic confusion: HMAC keyed with the verifier's public key bytes
        TokenKey confused = TokenKey.hs256("es-1", es.publicKey().orElseThrow().getEncoded());
        String token = forge(confused, header("HS256", "es-1"), claims());
        assertRejected(() -> pkProxy.verify(token), Reason.UNSUPPORTED_ALGORITHM, token);
        String edAsEs = forge(ed, header("ES256", "ed-1"), claims());
        assertRejected(() -> pkProxy.verify(edAsEs), Reason.UNSUPPORTED_ALGORITHM, edAsEs);
    }

    @Test
    void refusesUnknownKid() {
        String token = forge(hs, header("HS256", "other"), claims());
        assertRejected(() -> hsProxy.verify(token), Reason.UNKNOWN_KEY, token);
        String noKid = forge(hs, "{\"alg\":\"HS256\",\"typ\":\"svc+jwt\"}", claims());
        assertRejected(() -> hsProxy.verify(noKid), Reason.UNKNOWN_KEY, noKid);
    }

    @Test
    void refusesEd25519SignatureWithAnAppendedByte() {
        String input = b64(header("EdDSA", "ed-1")) + "." + b64(claims());
        byte[] signature = TestKeys.sign(ed, input.getBytes(StandardCharsets.US_ASCII));
        String token = input + "." + b64(Arrays.copyOf(signature, 65));
        assertRejected(() -> pkProxy.verify(token), Reason.BAD_SIGNATURE, token);
    }

    @Test
    void refusesEs256SignatureInDerForm() throws Exception {
        String input = b64(header("ES256", "es-1")) + "." + b64(claims());
        Signature der = Signature.getInstance("SHA256withECDSA");
        der.initSign((PrivateKey) es.signingKey());
        der.update(input.getBytes(StandardCharsets.US_ASCII));
        String token = input + "." + b64(der.sign());
        assertRejected(() -> pkProxy.verify(token), Reason.BAD_SIGNATURE, token);
    }

    @Test
    void refusesPsychicSignatureOfZeros() {
        String token = b64(header("ES256", "es-1")) + "." + b64(claims()) + "." + b64(new byte[64]);
        assertRejected(() -> pkProxy.verify(token), Reason.BAD_SIGNATURE, token);
    }

    @Test
    void refusesTamperedPayload() {
        String[] parts = valid().split("\\.");
        String other = b64(claims().replace("db:read", "db:drop"));
        assertRejected(() -> hsProxy.verify(parts[0] + "." + other + "." + parts[2]), Reason.BAD_SIGNATURE, null);
    }

    @Test
    void refusesDuplicateHeaderMember() {
        String token = forge(hs, "{\"alg\":\"HS256\",\"kid\":\"hs-1\",\"typ\":\"svc+jwt\",\"kid\":\"hs-1\"}", claims());
        assertRejected(() -> hsProxy.verify(token), Reason.MALFORMED, token);
    }

    @Test
    void refusesDuplicateClaim() {
        String token = forge(hs, header("HS256", "hs-1"), claims().replace("}", ",\"aud\":\"" + PROXY + "\"}"));
        assertRejected(() -> hsProxy.verify(token), Reason.MALFORMED, token);
    }

    @Test
    void refusesExpAsStringOrFraction() {
        long now = clock.instant().getEpochSecond();
        String text = forge(hs, header("HS256", "hs-1"), claims("\"exp\":\"" + (now + 300) + "\",\"iat\":" + now));
        assertRejected(() -> hsProxy.verify(text), Reason.MALFORMED, text);
        String fraction = forge(hs, header("HS256", "hs-1"), claims("\"exp\":" + (now + 300) + ".5,\"iat\":" + now));
        assertRejected(() -> hsProxy.verify(fraction), Reason.MALFORMED, fraction);
        String huge = forge(hs, header("HS256", "hs-1"), claims("\"exp\":99999999999999999999999,\"iat\":" + now));
        assertRejected(() -> hsProxy.verify(huge), Reason.MALFORMED, huge);
    }

    /** Issue 14, finding 7: each value, in each date claim, of a correctly signed token. */
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "9223372036854775807", "-9223372036854775808", "-1", "-300", "253402300800", "9223372036854775808",
        "-9223372036854775809", "1.5", "1.0", "1e3", "1e308", "-1e308", "1e400", "\"NOW\"", "\"1\"", "null", "true",
        "[NOW]", "{}"})
    void refusesCorrectlySignedTokenWithAnOutOfRangeOrNonIntegerDate(String hostile) {
        long now = clock.instant().getEpochSecond();
        String value = hostile.replace("NOW", String.valueOf(now));
        for (String claim : new String[] {"iat", "nbf", "exp"}) {
            RecordingAuditLog audit = new RecordingAuditLog();
            ServiceTokens proxy = ServiceTokens.builder().identity(PROXY).verificationKeys(KeySet.of(hs))
                    .trustIssuers(API).clock(clock).auditLog(audit).build();
            String times = "\"iat\":" + (claim.equals("iat") ? value : String.valueOf(now)) + ",\"exp\":"
                    + (claim.equals("exp") ? value : String.valueOf(now + 300))
                    + (claim.equals("nbf") ? ",\"nbf\":" + value : "");
            String token = forge(hs, header("HS256", "hs-1"), claims(times));
            assertRejected(() -> proxy.verify(token), Reason.MALFORMED, token);
            assertThat(audit.events()).as(claim + "=" + value).singleElement().satisfies(event -> {
                assertThat(event.action()).isEqualTo("token.rejected");
                assertThat(event.fields()).containsEntry("reason", "MALFORMED");
            });
        }
    }

    @Test
    void refusesExtremeButInRangeDatesWithTheirOwnReasonAndNoOverflow() {
        long last = TokenJson.MAX_NUMERIC_DATE;
        long now = clock.instant().getEpochSecond();
        String future = forge(hs, header("HS256", "hs-1"), claims("\"iat\":" + (last - 60) + ",\"exp\":" + last));
        assertRejected(() -> hsProxy.verify(future), Reason.NOT_YET_VALID, future);
        String farNbf = forge(hs, header("HS256", "hs-1"),
                claims("\"iat\":" + now + ",\"exp\":" + (now + 60) + ",\"nbf\":" + last));
        assertRejected(() -> hsProxy.verify(farNbf), Reason.NOT_YET_VALID, farNbf);
        String epoch = forge(hs, header("HS256", "hs-1"), claims("\"iat\":0,\"exp\":60"));
        assertRejected(() -> hsProxy.verify(epoch), Reason.EXPIRED, epoch);
        String span = forge(hs, header("HS256", "hs-1"), claims("\"iat\":0,\"exp\":" + last));
        assertRejected(() -> hsProxy.verify(span), Reason.LIFETIME_TOO_LONG, span);
    }

    @ParameterizedTest
    @ValueSource(strings = {"svc+jwt", "SVC+JWT", "Svc+Jwt", "application/svc+jwt", "APPLICATION/SVC+JWT"})
    void acceptsTypAsAMediaTypeInAnyAsciiCase(String typ) {
        String token = forge(hs, "{\"alg\":\"HS256\",\"kid\":\"hs-1\",\"typ\":\"" + typ + "\"}", claims());
        assertThat(hsProxy.verify(token).jti()).isEqualTo("j-1");
    }

    /** {@code equalsIgnoreCase} folds U+017F (long s) to s and U+212A (Kelvin) to k: not a media type. */
    @ParameterizedTest
    @ValueSource(strings = {"\u017fvc+jwt", "application/\u017fvc+jwt", "svc+jwt ", " svc+jwt", "svc+jwt\\u0000",
        "application/svc+jwtx", "text/svc+jwt", "applicationXsvc+jwt", "jwt", "svc+jwt;charset=utf-8",
        "application/application/svc+jwt", ""})
    void refusesTypThatIsNotExactlyTheMediaType(String typ) {
        String token = forge(hs, "{\"alg\":\"HS256\",\"kid\":\"hs-1\",\"typ\":\"" + typ + "\"}", claims());
        assertRejected(() -> hsProxy.verify(token), Reason.WRONG_TYPE, token);
    }

    @Test
    void refusesTokenWithoutExpOrIat() {
        long now = clock.instant().getEpochSecond();
        String noExp = forge(hs, header("HS256", "hs-1"), claims("\"iat\":" + now));
        assertRejected(() -> hsProxy.verify(noExp), Reason.MISSING_CLAIM, noExp);
        String noIat = forge(hs, header("HS256", "hs-1"), claims("\"exp\":" + (now + 60)));
        assertRejected(() -> hsProxy.verify(noIat), Reason.MISSING_CLAIM, noIat);
    }

    @Test
    void refusesLifetimeBeyondTheMaximum() {
        long now = clock.instant().getEpochSecond();
        String token = forge(hs, header("HS256", "hs-1"), claims("\"exp\":" + (now + 7200) + ",\"iat\":" + now));
        assertRejected(() -> hsProxy.verify(token), Reason.LIFETIME_TOO_LONG, token);
        String backwards = forge(hs, header("HS256", "hs-1"), claims("\"exp\":" + now + ",\"iat\":" + (now + 1)));
        assertRejected(() -> hsProxy.verify(backwards), Reason.MALFORMED, backwards);
    }

    @Test
    void refusesNotBeforeInTheFuture() {
        long now = clock.instant().getEpochSecond();
        String token = forge(hs, header("HS256", "hs-1"),
                claims("\"exp\":" + (now + 300) + ",\"iat\":" + now + ",\"nbf\":" + (now + 120)));
        assertRejected(() -> hsProxy.verify(token), Reason.NOT_YET_VALID, token);
    }

    @Test
    void refusesSeveralAudiencesButAcceptsOneInAnArray() {
        String several = forge(hs, header("HS256", "hs-1"), claims().replace("\"" + PROXY + "\"",
                "[\"" + PROXY + "\",\"spiffe://example.org/other\"]"));
        assertRejected(() -> hsProxy.verify(several), Reason.WRONG_AUDIENCE, several);
        String one = forge(hs, header("HS256", "hs-1"), claims().replace("\"" + PROXY + "\"", "[\"" + PROXY + "\"]"));
        assertThat(hsProxy.verify(one).audience()).hasToString(PROXY);
    }

    @Test
    void refusesAudienceThatOnlyStartsLikeThisService() {
        String token = forge(hs, header("HS256", "hs-1"), claims().replace("\"" + PROXY + "\"", "\"" + PROXY + "/x\""));
        assertRejected(() -> hsProxy.verify(token), Reason.WRONG_AUDIENCE, token);
    }

    @Test
    void refusesScopeAsSpaceSeparatedString() {
        String token = forge(hs, header("HS256", "hs-1"), claims().replace("[\"db:read\"]", "\"db:read db:write\""));
        assertRejected(() -> hsProxy.verify(token), Reason.MALFORMED, token);
    }

    @Test
    void refusesWrongOrMissingType() {
        String jwt = forge(hs, "{\"alg\":\"HS256\",\"kid\":\"hs-1\",\"typ\":\"JWT\"}", claims());
        assertRejected(() -> hsProxy.verify(jwt), Reason.WRONG_TYPE, jwt);
        String none = forge(hs, "{\"alg\":\"HS256\",\"kid\":\"hs-1\"}", claims());
        assertRejected(() -> hsProxy.verify(none), Reason.WRONG_TYPE, none);
    }

    @Test
    void refusesUtf16Header() {
        String input = b64(header("HS256", "hs-1").getBytes(StandardCharsets.UTF_16LE)) + "." + b64(claims());
        String token = input + "." + b64(TestKeys.sign(hs, input.getBytes(StandardCharsets.US_ASCII)));
        assertRejected(() -> hsProxy.verify(token), Reason.MALFORMED, token);
    }

    @Test
    void refusesTrailingDataAfterTheJsonObject() {
        String token = forge(hs, header("HS256", "hs-1") + "{}", claims());
        assertRejected(() -> hsProxy.verify(token), Reason.MALFORMED, token);
        String payload = forge(hs, header("HS256", "hs-1"), claims() + " 1");
        assertRejected(() -> hsProxy.verify(payload), Reason.MALFORMED, payload);
    }

    @Test
    void refusesMissingSubjectOrJti() {
        String noSub = forge(hs, header("HS256", "hs-1"), claims().replace("\"sub\":\"" + API + "\",", ""));
        assertRejected(() -> hsProxy.verify(noSub), Reason.MISSING_CLAIM, noSub);
        String noJti = forge(hs, header("HS256", "hs-1"), claims().replace(",\"jti\":\"j-1\"", ""));
        assertRejected(() -> hsProxy.verify(noJti), Reason.MISSING_CLAIM, noJti);
    }

    @Test
    void refusesDeeplyNestedClaims() {
        String deep = "[".repeat(200) + "]".repeat(200);
        String token = forge(hs, header("HS256", "hs-1"), claims().replace("}", ",\"x\":" + deep + "}"));
        assertRejected(() -> hsProxy.verify(token), Reason.MALFORMED, token);
    }
}
