package io.settler.zerotrust.benchmarks.token;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.settler.zerotrust.audit.AuditLog;
import io.settler.zerotrust.micrometer.ZeroTrustMetrics;
import io.settler.zerotrust.token.KeySet;
import io.settler.zerotrust.token.ServiceTokens;
import io.settler.zerotrust.token.TokenKey;
import io.settler.zerotrust.token.VerifiedToken;
import java.security.SecureRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * The cost of metrics on the hottest path: verifying the same HS256 token through the verified-token
 * cache, as {@link HmacTokenVerifyBenchmark#serviceTokensCached()}.
 *
 * <p>{@code baseline}: the default SLF4J audit log, which drops the routine {@code token.verified}
 * event (DEBUG), so none is built. {@code withMetrics}: {@code AuditLog.slf4j().alsoTo(metrics.auditLog())}
 * on a {@link SimpleMeterRegistry}: every verification builds its event and counts and times it.
 * Goal (issue 18): withMetrics at least 0.9x the baseline.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class MetricsTokenVerifyBenchmark {

    private String token;
    private ServiceTokens plain;
    private ServiceTokens metered;

    /** Mints the token and builds both verifiers once. */
    @Setup
    public void setUp() {
        byte[] bytes = new byte[32];
        new SecureRandom().nextBytes(bytes);
        TokenKey key = TokenKey.hs256("hs-1", bytes);
        token = HmacTokenVerifyBenchmark.mint(key, 1)[0];
        plain = verifier(key, AuditLog.slf4j());
        metered = verifier(key, AuditLog.slf4j().alsoTo(
                ZeroTrustMetrics.builder(new SimpleMeterRegistry()).build().auditLog()));
        baseline();
        withMetrics(); // both must accept the token before anything is measured
    }

    private static ServiceTokens verifier(TokenKey key, AuditLog audit) {
        return ServiceTokens.builder().identity(HmacTokenVerifyBenchmark.PROXY).verificationKeys(KeySet.of(key))
                .trustIssuers(HmacTokenVerifyBenchmark.API).verifiedTokenCache(10_000).auditLog(audit).build();
    }

    /** Cached verification audited to the SLF4J log only. */
    @Benchmark
    public VerifiedToken baseline() {
        return plain.verify(token, "db:read");
    }

    /** The same, each verification also counted and timed in a meter registry. */
    @Benchmark
    public VerifiedToken withMetrics() {
        return metered.verify(token, "db:read");
    }
}
