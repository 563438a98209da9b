package io.settler.zerotrust.token;

import static io.settler.zerotrust.token.TestKeys.API;
import static io.settler.zerotrust.token.TestKeys.PROXY;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.amazon.corretto.crypto.provider.AmazonCorrettoCryptoProvider;
import java.security.Security;
import java.security.Signature;
import java.util.List;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The opt-in faster JCA provider: with Amazon Corretto Crypto Provider installed first, as the
 * README tells users to, verification uses it and stays exactly as strict.
 */
class FasterProviderTest {

    @BeforeEach
    void installFirst() {
        AmazonCorrettoCryptoProvider.install();
        AmazonCorrettoCryptoProvider.INSTANCE.assertHealthy();
    }

    @AfterEach
    void uninstall() {
        Security.removeProvider(AmazonCorrettoCryptoProvider.PROVIDER_NAME);
    }

    static Stream<Function<String, TokenKey>> signatureKeys() {
        return Stream.of(TestKeys::es256, TestKeys::ed25519);
    }

    @ParameterizedTest
    @MethodSource("signatureKeys")
    void verifiesWithTheInstalledProviderAndStillRefusesForgeries(Function<String, TokenKey> keys) throws Exception {
        TokenKey key = keys.apply("k-1");
        assertThat(Signature.getInstance(key.algorithm().jcaName()).getProvider().getName())
                .isEqualTo(AmazonCorrettoCryptoProvider.PROVIDER_NAME);
        ServiceTokens minter = ServiceTokens.builder().identity(API).signingKey(key).build();
        ServiceTokens verifier = ServiceTokens.builder().identity(PROXY)
                .verificationKeys(KeySet.of(key.verifyOnly())).trustIssuers(API).build();
        String token = minter.mint(PROXY, List.of("db:read"));

        assertThat(verifier.verify(token, "db:read").service()).hasToString(API);

        String forged = TestKeys.forge(keys.apply("k-1"), "{\"alg\":\"" + key.algorithm().jwsName()
                + "\",\"kid\":\"k-1\",\"typ\":\"svc+jwt\"}", new String(java.util.Base64.getUrlDecoder()
                .decode(token.split("\\.")[1]), java.nio.charset.StandardCharsets.UTF_8));
        assertThatThrownBy(() -> verifier.verify(forged, "db:read")).isInstanceOf(TokenRejectedException.class)
                .extracting(e -> ((TokenRejectedException) e).reason())
                .isEqualTo(TokenRejectedException.Reason.BAD_SIGNATURE);
    }
}
