package io.settler.zerotrust.benchmarks.token;

import com.auth0.jwt.JWT;
import com.auth0.jwt.JWTVerifier;
import com.auth0.jwt.algorithms.Algorithm;
import com.nimbusds.jose.crypto.MACVerifier;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.jsonwebtoken.Claims;
import io.jsonwebtoken.JwtParser;
import io.jsonwebtoken.Jwts;
import io.settler.zerotrust.token.KeySet;
import io.settler.zerotrust.token.ServiceTokens;
import io.settler.zerotrust.token.TokenKey;
import io.settler.zerotrust.token.TokenRequest;
import io.settler.zerotrust.token.VerifiedToken;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Date;
import java.util.concurrent.TimeUnit;
import javax.crypto.SecretKey;
import javax.crypto.spec.SecretKeySpec;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * Verifying one HS256 service token (issuer, audience, expiry and signature checked).
 *
 * <p>{@code baseline} is jjwt's own parser ({@code Jwts.parser().verifyWith(key).requireIssuer(..)
 * .requireAudience(..)}). {@code serviceTokensCold} is {@code ServiceTokens.verify(token, "db:read")}
 * with the verified-token cache off and a different token each call (4096 tokens in turn), every
 * strict check on. {@code serviceTokensCached} verifies the same token again and again through the
 * cache (scope, replay and certificate still checked per call). {@code nimbus} and {@code javaJwt}
 * verify the same cold tokens with Nimbus JOSE+JWT and auth0 java-jwt, for reference. Setup checks
 * that every implementation accepts the tokens.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class HmacTokenVerifyBenchmark {

    static final String API = "spiffe://example.org/api";
    static final String PROXY = "spiffe://example.org/db-proxy";
    static final int TOKENS = 4096;

    private String[] tokens;
    private String repeated;
    private int next;
    private ServiceTokens cold;
    private ServiceTokens cached;
    private JwtParser jjwt;
    private MACVerifier nimbus;
    private JWTVerifier javaJwt;

    /** Mints the tokens and builds each verifier once. */
    @Setup
    public void setUp() throws Exception {
        byte[] bytes = new byte[32];
        new SecureRandom().nextBytes(bytes);
        TokenKey key = TokenKey.hs256("hs-1", bytes);
        tokens = mint(key, TOKENS);
        repeated = tokens[0];
        cold = verifier(key, 0);
        cached = verifier(key, 10_000);
        SecretKey secret = new SecretKeySpec(bytes, "HmacSHA256");
        jjwt = Jwts.parser().verifyWith(secret).requireIssuer(API).requireAudience(PROXY).build();
        nimbus = new MACVerifier(secret);
        javaJwt = JWT.require(Algorithm.HMAC256(secret.getEncoded())).withIssuer(API).withAudience(PROXY).build();
        for (int i = 0; i < 3; i++) {
            baseline();
            serviceTokensCold();
            serviceTokensCached();
            nimbus();
            javaJwt();
        }
    }

    static String[] mint(TokenKey key, int count) {
        ServiceTokens minter = ServiceTokens.builder().identity(API).signingKey(key).build();
        String[] minted = new String[count];
        for (int i = 0; i < count; i++) {
            minted[i] = minter.mint(TokenRequest.to(PROXY).scopes("db:read", "queue:jobs:publish")
                    .lifetime(Duration.ofHours(1)).build());
        }
        return minted;
    }

    static ServiceTokens verifier(TokenKey key, int cacheSize) {
        return ServiceTokens.builder().identity(PROXY).verificationKeys(KeySet.of(key)).trustIssuers(API)
                .verifiedTokenCache(cacheSize).build();
    }

    private String nextToken() {
        String token = tokens[next];
        next = (next + 1) & (TOKENS - 1);
        return token;
    }

    /** The reference: jjwt's parser. */
    @Benchmark
    public Claims baseline() {
        return jjwt.parseSignedClaims(nextToken()).getPayload();
    }

    /** Ours, a new token each call, no cache. */
    @Benchmark
    public VerifiedToken serviceTokensCold() {
        return cold.verify(nextToken(), "db:read");
    }

    /** Ours, the same token each call, through the verified-token cache. */
    @Benchmark
    public VerifiedToken serviceTokensCached() {
        return cached.verify(repeated, "db:read");
    }

    /** Nimbus JOSE+JWT: parse, verify the MAC, check issuer, audience and expiry. */
    @Benchmark
    @SuppressWarnings("JavaUtilDate") // Nimbus's claims are Dates: the baseline uses its API as its users do
    public JWTClaimsSet nimbus() throws Exception {
        SignedJWT jwt = SignedJWT.parse(nextToken());
        if (!jwt.verify(nimbus)) {
            throw new IllegalStateException("Nimbus refused the token");
        }
        JWTClaimsSet claims = jwt.getJWTClaimsSet();
        if (!API.equals(claims.getIssuer()) || !claims.getAudience().contains(PROXY)
                || !claims.getExpirationTime().after(new Date())) {
            throw new IllegalStateException("Nimbus: wrong claims");
        }
        return claims;
    }

    /** auth0 java-jwt's verifier with issuer and audience required. */
    @Benchmark
    public Object javaJwt() {
        return javaJwt.verify(nextToken());
    }
}
