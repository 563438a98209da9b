package io.settler.zerotrust.benchmarks.token;

import com.amazon.corretto.crypto.provider.AmazonCorrettoCryptoProvider;
import io.settler.zerotrust.token.ServiceTokens;
import io.settler.zerotrust.token.TokenAlgorithm;
import io.settler.zerotrust.token.TokenKey;
import io.settler.zerotrust.token.VerifiedToken;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.Signature;
import java.util.Base64;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * Verifying one ES256 or EdDSA (Ed25519) service token cold (cache off, a different token each
 * call), against the bare signature check it cannot avoid.
 *
 * <p>{@code baseline} is the JDK's {@code Signature.verify} (one instance, initialised once) over the
 * same tokens' signing input and raw signature, decoded in setup; it does no parsing and no claim
 * checks. {@code serviceTokensCold} is {@code ServiceTokens.verify(token, "db:read")} with every
 * strict check on, so the ratio is the price of everything around the signature.
 *
 * <p>{@code provider}: {@code JDK} uses the JDK's own providers; {@code ACCP} installs Amazon
 * Corretto Crypto Provider first in the list, as a user opts in, so both sides use it. Comparing the
 * rows of the two providers shows what the opt-in buys.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class SignatureTokenVerifyBenchmark {

    private static final int TOKENS = 1024;

    /** The token algorithm. */
    @Param({"ES256", "EdDSA"})
    public String algorithm;

    /** The JCA provider both sides get their signature engine from. */
    @Param({"JDK", "ACCP"})
    public String provider;

    private String[] tokens;
    private byte[][] inputs;
    private byte[][] signatures;
    private int next;
    private ServiceTokens cold;
    private Signature jca;

    /** Mints the tokens, decodes their parts for the baseline, and checks that both accept them. */
    @Setup
    public void setUp() throws GeneralSecurityException {
        if (provider.equals("ACCP")) {
            AmazonCorrettoCryptoProvider.install();
            AmazonCorrettoCryptoProvider.INSTANCE.assertHealthy();
        }
        TokenAlgorithm alg = algorithm.equals("ES256") ? TokenAlgorithm.ES256 : TokenAlgorithm.ED25519;
        TokenKey key = TokenKey.generate(alg, "k-1");
        tokens = HmacTokenVerifyBenchmark.mint(key, TOKENS);
        cold = HmacTokenVerifyBenchmark.verifier(key.verifyOnly(), 0);
        inputs = new byte[TOKENS][];
        signatures = new byte[TOKENS][];
        for (int i = 0; i < TOKENS; i++) {
            int dot = tokens[i].lastIndexOf('.');
            inputs[i] = tokens[i].substring(0, dot).getBytes(StandardCharsets.US_ASCII);
            signatures[i] = Base64.getUrlDecoder().decode(tokens[i].substring(dot + 1));
        }
        jca = Signature.getInstance(alg == TokenAlgorithm.ES256 ? "SHA256withECDSAinP1363Format" : "Ed25519");
        jca.initVerify(key.publicKey().orElseThrow());
        if (!jca.getProvider().getName().startsWith(provider.equals("ACCP") ? "Amazon" : "Sun")) {
            throw new IllegalStateException("expected the " + provider + " provider, got " + jca.getProvider());
        }
        for (int i = 0; i < 3; i++) {
            baseline();
            serviceTokensCold();
        }
    }

    /** The reference: the JDK's signature verification alone. */
    @Benchmark
    public boolean baseline() throws GeneralSecurityException {
        int i = next;
        next = (next + 1) & (TOKENS - 1);
        jca.update(inputs[i]);
        if (!jca.verify(signatures[i])) {
            throw new IllegalStateException("the JDK refused a signature");
        }
        return true;
    }

    /** Ours: every strict check plus the same signature verification. */
    @Benchmark
    public VerifiedToken serviceTokensCold() {
        String token = tokens[next];
        next = (next + 1) & (TOKENS - 1);
        return cold.verify(token, "db:read");
    }
}
