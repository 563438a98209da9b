package io.settler.zerotrust.token;

import static io.settler.zerotrust.token.TestKeys.API;
import static io.settler.zerotrust.token.TestKeys.PROXY;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.settler.zerotrust.identity.InvalidServiceIdentityException;
import io.settler.zerotrust.identity.ServiceIdentity;
import io.settler.zerotrust.pki.KeyAlgorithm;
import java.security.KeyPair;
import java.util.List;
import org.junit.jupiter.api.Test;

class KeySetTest {

    private final TokenKey es = TestKeys.es256("es-1");
    private final TokenKey ed = TestKeys.ed25519("ed-1");

    @Test
    void jwksRoundTripCarriesPublicKeysOnly() {
        KeySet keys = KeySet.builder().signingKey(es).add(ed.verifyOnly()).add(TestKeys.hs256("hs-1"))
                .allowSecretAndPublicKeys().build();
        String jwks = keys.toJwks();

        assertThat(jwks).contains("\"kid\":\"es-1\"", "\"kid\":\"ed-1\"", "\"use\":\"sig\"", "\"alg\":\"ES256\"",
                "\"alg\":\"EdDSA\"").doesNotContain("hs-1", "\"d\"", "\"k\"");
        KeySet read = KeySet.fromJwks(jwks);
        assertThat(read.keys()).extracting(TokenKey::kid).containsExactly("es-1", "ed-1");
        assertThat(read.keys()).noneMatch(TokenKey::canSign);
        assertThat(read.signingKey()).isEmpty();
    }

    @Test
    void tokensVerifyWithKeysReadFromTheJwks() {
        ServiceTokens api = ServiceTokens.builder().identity(API).keys(KeySet.builder().signingKey(ed).build()).build();
        ServiceTokens proxy = ServiceTokens.builder().identity(PROXY).trustIssuers(API)
                .verificationKeys(KeySet.fromJwks(KeySet.of(ed.verifyOnly()).toJwks()).pinnedTo(API)).build();
        assertThat(proxy.verify(api.mint(PROXY, List.of("db:read")), "db:read").keyId()).isEqualTo("ed-1");
    }

    @Test
    void issuerSetsAreTypedAndTextIsParsedIntoTheSameIdentities() {
        ServiceIdentity api = ServiceIdentity.parse(API);
        assertThat(ed.forIssuers(API).issuers()).containsExactly(api);
        assertThat(KeySet.of(ed.verifyOnly()).pinnedTo(api).keys().get(0).issuers()).containsExactly(api);

        ServiceTokens minter = ServiceTokens.builder().identity(API).keys(KeySet.builder().signingKey(ed).build())
                .build();
        ServiceTokens proxy = ServiceTokens.builder().identity(PROXY).trustIssuers(api)
                .verificationKeys(KeySet.of(ed.verifyOnly()).pinnedTo(api)).build();
        assertThat(proxy.verify(minter.mint(PROXY, List.of("db:read"))).issuer()).isEqualTo(api);
    }

    @Test
    void anIssuerGivenAsTextMustBeAValidSpiffeId() {
        String misspelt = "spiffe://Example.org/api";
        for (Runnable pinning : List.<Runnable>of(
                () -> ed.forIssuers(misspelt),
                () -> KeySet.of(ed.verifyOnly()).pinnedTo(misspelt),
                () -> JwksSource.builder(() -> KeySet.of(ed.verifyOnly()).toJwks()).pinnedTo(misspelt),
                () -> ServiceTokens.builder().trustIssuers(misspelt))) {
            assertThatThrownBy(pinning::run).isInstanceOf(InvalidServiceIdentityException.class)
                    .hasMessageContaining("spiffe://Example.org/api");
        }
    }

    @Test
    void emptyTemplatedIssuerListNeverLeavesAKeyUnpinned() {
        String[] rendered = List.<String>of().toArray(new String[0]);

        for (Runnable pinning : List.<Runnable>of(
                () -> ed.forIssuers(rendered),
                () -> KeySet.of(ed.verifyOnly()).pinnedTo(rendered),
                () -> JwksSource.builder(() -> KeySet.of(ed.verifyOnly()).toJwks()).pinnedTo(rendered))) {
            assertThatThrownBy(pinning::run).isInstanceOfSatisfying(ServiceTokenException.class, e -> {
                assertThat(e.reason()).isEqualTo(ServiceTokenException.Reason.INVALID_SETTING);
                assertThat(e.getMessage()).contains("at least one issuer");
            });
        }
    }

    @Test
    void refusesDuplicateKids() {
        assertThatThrownBy(() -> KeySet.of(es, TestKeys.ed25519("es-1")))
                .isInstanceOfSatisfying(ServiceTokenException.class, e -> assertThat(e.getMessage()).contains("es-1"));
        String one = KeySet.of(es.verifyOnly()).toJwks();
        String twice = one.replace("]}", "," + one.substring(one.indexOf('[') + 1, one.lastIndexOf(']')) + "]}");
        assertThatThrownBy(() -> KeySet.fromJwks(twice)).isInstanceOfSatisfying(ServiceTokenException.class,
                e -> assertThat(e.reason()).isEqualTo(ServiceTokenException.Reason.INVALID_JWKS));
    }

    @Test
    void refusesDuplicateMembersInJwks() {
        String jwks = KeySet.of(es.verifyOnly()).toJwks().replace("\"kid\":\"es-1\"", "\"kid\":\"es-1\",\"kid\":\"x\"");
        assertThatThrownBy(() -> KeySet.fromJwks(jwks)).isInstanceOfSatisfying(ServiceTokenException.class,
                e -> assertThat(e.reason()).isEqualTo(ServiceTokenException.Reason.INVALID_JWKS));
    }

    @Test
    void refusesSecretsMixedWithPublicKeysUnlessMeant() {
        TokenKey hs = TestKeys.hs256("hs-1");
        assertThatThrownBy(() -> KeySet.of(es, hs)).isInstanceOf(ServiceTokenException.class);
        assertThat(KeySet.builder().add(es).add(hs).allowSecretAndPublicKeys().build().keys()).hasSize(2);
        String mixed = "{\"keys\":[" + jwk(KeySet.of(es.verifyOnly())) + ","
                + "{\"kty\":\"oct\",\"kid\":\"hs-1\",\"k\":\"" + TestKeys.b64(new byte[32]) + "\"}]}";
        assertThatThrownBy(() -> KeySet.fromJwks(mixed)).isInstanceOf(ServiceTokenException.class);
        assertThat(KeySet.fromJwks("{\"keys\":[{\"kty\":\"oct\",\"kid\":\"hs-1\",\"k\":\"" + TestKeys.b64(new byte[32])
                + "\"}]}").keys()).singleElement().satisfies(key -> assertThat(key.isSecret()).isTrue());
    }

    @Test
    void refusesKeysWhoseUseForbidsSigning() {
        String jwk = jwk(KeySet.of(es.verifyOnly()));
        assertForbidden(jwk.replace("\"use\":\"sig\"", "\"use\":\"enc\""));
        assertForbidden(jwk.replace("\"use\":\"sig\"", "\"key_ops\":[\"encrypt\"]"));
        assertForbidden(jwk.replace("\"alg\":\"ES256\"", "\"alg\":\"ES384\""));
        assertForbidden(jwk.replace("\"alg\":\"ES256\"", "\"alg\":\"none\""));
        assertThat(KeySet.fromJwks("{\"keys\":[" + jwk.replace("\"use\":\"sig\"", "\"key_ops\":[\"verify\"]") + "]}")
                .keys()).hasSize(1);
    }

    @Test
    void refusesJwksWithPrivateKeyMaterial() {
        String jwk = jwk(KeySet.of(es.verifyOnly())).replace("}", ",\"d\":\"AAAA\"}");
        assertThatThrownBy(() -> KeySet.fromJwks("{\"keys\":[" + jwk + "]}"))
                .isInstanceOfSatisfying(ServiceTokenException.class,
                        e -> assertThat(e.getMessage()).contains("private"));
    }

    @Test
    void refusesJwksEntryWithoutKidOrOfAnotherType() {
        String noKid = jwk(KeySet.of(es.verifyOnly())).replace("\"kid\":\"es-1\",", "")
                .replace(",\"kid\":\"es-1\"", "");
        assertThatThrownBy(() -> KeySet.fromJwks("{\"keys\":[" + noKid + "]}"))
                .isInstanceOf(ServiceTokenException.class);
        assertThatThrownBy(
                () -> KeySet.fromJwks("{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"r\",\"n\":\"AQAB\",\"e\":\"AQAB\"}]}"))
                .isInstanceOf(ServiceTokenException.class);
        assertThatThrownBy(() -> KeySet.fromJwks("[]")).isInstanceOf(ServiceTokenException.class);
        assertThatThrownBy(() -> KeySet.fromJwks("{\"keys\":[")).isInstanceOf(ServiceTokenException.class);
    }

    @Test
    void refusesWeakSecretsAndWrongCurves() {
        assertThatThrownBy(() -> TokenKey.hs256("hs", new byte[31])).isInstanceOfSatisfying(ServiceTokenException.class,
                e -> assertThat(e.reason()).isEqualTo(ServiceTokenException.Reason.INVALID_KEY));
        var p384 = TestKeys.leaf("api", KeyAlgorithm.EC_P384);
        assertThatThrownBy(() -> TokenKey.es256("p384", p384.certificate().getPublicKey()))
                .isInstanceOf(ServiceTokenException.class);
        var rsa = TestKeys.leaf("api", KeyAlgorithm.RSA_2048);
        assertThatThrownBy(() -> TokenKey.ed25519("rsa", rsa.certificate().getPublicKey()))
                .isInstanceOf(ServiceTokenException.class);
    }

    @Test
    void refusesKeyPairWhoseHalvesDoNotMatch() {
        var one = TestKeys.leaf("api", KeyAlgorithm.EC_P256);
        var other = TestKeys.leaf("api", KeyAlgorithm.EC_P256);
        assertThatThrownBy(() -> TokenKey.es256("x", new KeyPair(one.certificate().getPublicKey(), other.privateKey())))
                .isInstanceOf(ServiceTokenException.class);
    }

    @Test
    void oneActiveSigningKeyAndRotation() {
        TokenKey next = TestKeys.es256("es-2");
        assertThatThrownBy(() -> KeySet.builder().signingKey(es).signingKey(next))
                .isInstanceOf(ServiceTokenException.class);
        KeySet rotated = KeySet.builder().signingKey(next).add(es.verifyOnly()).build();
        assertThat(rotated.signingKey()).map(TokenKey::kid).contains("es-2");

        ServiceTokens proxy = ServiceTokens.builder().identity(PROXY).trustIssuers(API)
                .verificationKeys(KeySet.of(es.verifyOnly(), next.verifyOnly())).build();
        String old = ServiceTokens.builder().identity(API).signingKey(es).build().mint(PROXY, List.of());
        String fresh = ServiceTokens.builder().identity(API).keys(rotated).build().mint(PROXY, List.of());
        assertThat(proxy.verify(old).keyId()).isEqualTo("es-1");
        assertThat(proxy.verify(fresh).keyId()).isEqualTo("es-2");
    }

    @Test
    void toStringNeverShowsKeyMaterial() {
        TokenKey hs = TokenKey.hs256("hs-1", "a-secret-of-at-least-thirty-two-bytes!!".getBytes());
        assertThat(hs.toString()).contains("hs-1").doesNotContain("a-secret");
        assertThat(KeySet.of(hs).toString()).doesNotContain("a-secret");
    }

    private static String jwk(KeySet keys) {
        String jwks = keys.toJwks();
        return jwks.substring(jwks.indexOf('[') + 1, jwks.lastIndexOf(']'));
    }

    private static void assertForbidden(String jwk) {
        assertThatThrownBy(() -> KeySet.fromJwks("{\"keys\":[" + jwk + "]}"))
                .isInstanceOfSatisfying(ServiceTokenException.class,
                        e -> assertThat(e.reason()).isEqualTo(ServiceTokenException.Reason.KEY_USE_FORBIDDEN));
    }
}
