package io.settler.zerotrust.token;

import static io.settler.zerotrust.token.ServiceTokensTest.assertRejected;
import static io.settler.zerotrust.token.TestKeys.API;
import static io.settler.zerotrust.token.TestKeys.PROXY;
import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.MACVerifier;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.settler.zerotrust.testkit.MutableClock;
import io.settler.zerotrust.token.TokenRejectedException.Reason;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.ECPublicKey;
import java.util.Date;
import java.util.List;
import javax.crypto.SecretKey;
import org.junit.jupiter.api.Test;

/** Another JOSE implementation (Nimbus JOSE+JWT) mints tokens we accept, and verifies ours. */
class NimbusInteropTest {

    private final MutableClock clock = new MutableClock();
    private final TokenKey hs = TestKeys.hs256("hs-1");
    private final TokenKey es = TestKeys.es256("es-1");
    private final ServiceTokens proxy = ServiceTokens.builder().identity(PROXY)
            .verificationKeys(KeySet.builder().add(hs).add(es.verifyOnly()).allowSecretAndPublicKeys().build())
            .trustIssuers(API).clock(clock).auditLog(event -> { }).build();

    private String nimbusToken(JWSAlgorithm alg, String kid, JWSSigner signer, String type) throws Exception {
        Date now = Date.from(clock.instant());
        JWTClaimsSet claims = new JWTClaimsSet.Builder().issuer(API).subject(API).audience(PROXY)
                .issueTime(now).notBeforeTime(now).expirationTime(Date.from(clock.instant().plusSeconds(300)))
                .jwtID("nimbus-1").claim("scope", List.of("db:read", "queue:jobs:publish")).build();
        SignedJWT jwt =
                new SignedJWT(new JWSHeader.Builder(alg).keyID(kid).type(new JOSEObjectType(type)).build(), claims);
        jwt.sign(signer);
        return jwt.serialize();
    }

    @Test
    void acceptsNimbusHs256Token() throws Exception {
        String token = nimbusToken(JWSAlgorithm.HS256, "hs-1", new MACSigner((SecretKey) hs.signingKey()), "svc+jwt");
        VerifiedToken verified = proxy.verify(token, "db:read");
        assertThat(verified.service()).hasToString(API);
        assertThat(verified.scopes()).containsExactly("db:read", "queue:jobs:publish");
    }

    @Test
    void acceptsNimbusEs256Token() throws Exception {
        String token =
                nimbusToken(JWSAlgorithm.ES256, "es-1", new ECDSASigner((ECPrivateKey) es.signingKey()), "svc+jwt");
        assertThat(proxy.verify(token, "queue:jobs:publish").keyId()).isEqualTo("es-1");
    }

    @Test
    void refusesNimbusTokenThatBreaksOurRules() throws Exception {
        String plainJwt = nimbusToken(JWSAlgorithm.HS256, "hs-1", new MACSigner((SecretKey) hs.signingKey()), "JWT");
        assertRejected(() -> proxy.verify(plainJwt), Reason.WRONG_TYPE, plainJwt);
        String hs384 = nimbusToken(JWSAlgorithm.HS384, "hs-1",
                new MACSigner(new byte[48]), "svc+jwt");
        assertRejected(() -> proxy.verify(hs384), Reason.UNSUPPORTED_ALGORITHM, hs384);
    }

    @Test
    void nimbusVerifiesOurHs256AndEs256Tokens() throws Exception {
        for (TokenKey key : List.of(hs, es)) {
            ServiceTokens minter = ServiceTokens.builder().identity(API).signingKey(key).clock(clock).build();
            SignedJWT jwt = SignedJWT.parse(minter.mint(PROXY, List.of("db:read")));
            JWSVerifier verifier = key.isSecret() ? new MACVerifier((SecretKey) key.signingKey())
                    : new ECDSAVerifier((ECPublicKey) key.publicKey().orElseThrow());
            assertThat(jwt.verify(verifier)).isTrue();
            assertThat(jwt.getHeader().getType().getType()).isEqualTo("svc+jwt");
            assertThat(jwt.getHeader().getKeyID()).isEqualTo(key.kid());
            assertThat(jwt.getJWTClaimsSet().getAudience()).containsExactly(PROXY);
            assertThat(jwt.getJWTClaimsSet().getStringListClaim("scope")).containsExactly("db:read");
            assertThat(jwt.getJWTClaimsSet().getExpirationTime()).isAfter(Date.from(clock.instant()));
        }
    }

    @Test
    void nimbusReadsOurJwksAndWeReadNimbusJwks() throws Exception {
        JWKSet parsed = JWKSet.parse(KeySet.of(es.verifyOnly(), TestKeys.ed25519("ed-1").verifyOnly()).toJwks());
        assertThat(parsed.getKeys()).extracting(jwk -> jwk.getKeyID()).containsExactly("es-1", "ed-1");
        assertThat(parsed.getKeyByKeyId("es-1").toECKey().toECPublicKey().getW())
                .isEqualTo(((ECPublicKey) es.publicKey().orElseThrow()).getW());

        KeySet ours = KeySet.fromJwks(parsed.toPublicJWKSet().toString());
        assertThat(ours.keys()).extracting(TokenKey::kid).containsExactly("es-1", "ed-1");
    }
}
