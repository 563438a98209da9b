package io.settler.zerotrust.benchmarks.tls;

import io.settler.zerotrust.pki.DevCertificateAuthority;
import io.settler.zerotrust.trust.HostileChains;
import io.settler.zerotrust.trust.PeerCertificateVerifier;
import io.settler.zerotrust.trust.PeerVerificationException;
import java.io.ByteArrayInputStream;
import java.security.cert.CertificateEncodingException;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * {@link PeerCertificateVerifier#verifyClient} alone, outside a handshake: the chain work finding 9
 * measured at 3-4 s per call for self-issued CAs sharing the anchor's name. Each call parses the
 * chain's DER anew with Bouncy Castle's certificate factory: the JDK's factory hands out cached
 * objects for bytes it has seen, and a JDK certificate object remembers its last signature check,
 * so repeating a chain would leave the signatures unmeasured. This is the cost of a chain the
 * server has not seen before, e.g. an attacker's that varies with every attempt.
 *
 * <p>{@code baseline}: a valid client chain (leaf and intermediate under a development CA, EC
 * P-256). The attacks, built by {@link HostileChains} against that CA with the attacker's own
 * keys, at the verifier's limit of 40 certificates: {@code selfIssuedMaze} (39 self-issued CAs
 * bearing the CA's name), {@code fanOfFakeCas} (39 CAs claiming the CA as issuer),
 * {@code longChain} (8 CAs of distinct names in one line). Lower is better (time per call).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class PeerVerificationBenchmark {

    private PeerCertificateVerifier verifier;
    private CertificateFactory factory;
    private List<byte[]> valid;
    private List<byte[]> maze;
    private List<byte[]> fan;
    private List<byte[]> line;

    /** Issues the valid chain, builds the attackers' chains and checks each outcome once. */
    @Setup
    public void setUp() throws Exception {
        DevCertificateAuthority ca = DevCertificateAuthority.builder("example.org").withIntermediate().build();
        verifier = PeerCertificateVerifier.builder().trustAnchors(List.of(ca.rootCertificate())).build();
        factory = CertificateFactory.getInstance("X.509", new BouncyCastleProvider());
        valid = encoded(ca.leaf("worker").issue().chain());
        HostileChains attacker = HostileChains.against(ca.rootCertificate());
        maze = encoded(attacker.selfIssuedMaze(39).certificates());
        fan = encoded(attacker.fan(39).certificates());
        line = encoded(attacker.longLine(8).certificates());
        if (!baseline()) {
            throw new IllegalStateException("the valid chain was refused");
        }
        if (selfIssuedMaze() || fanOfFakeCas() || longChain()) {
            throw new IllegalStateException("an attacker's chain was accepted");
        }
    }

    /** A valid client chain. */
    @Benchmark
    public boolean baseline() {
        return verifies(valid);
    }

    /** 39 self-issued CAs bearing the anchor's name. */
    @Benchmark
    public boolean selfIssuedMaze() {
        return verifies(maze);
    }

    /** 39 CAs claiming the anchor as issuer. */
    @Benchmark
    public boolean fanOfFakeCas() {
        return verifies(fan);
    }

    /** 8 CAs in one line up to the anchor's name. */
    @Benchmark
    public boolean longChain() {
        return verifies(line);
    }

    private boolean verifies(List<byte[]> chain) {
        List<X509Certificate> parsed = new ArrayList<>(chain.size());
        try {
            for (byte[] der : chain) {
                parsed.add((X509Certificate) factory.generateCertificate(new ByteArrayInputStream(der)));
            }
        } catch (CertificateException e) {
            throw new IllegalStateException(e);
        }
        try {
            verifier.verifyClient(parsed);
            return true;
        } catch (PeerVerificationException refused) {
            return false;
        }
    }

    private static List<byte[]> encoded(List<X509Certificate> chain) throws CertificateEncodingException {
        List<byte[]> der = new ArrayList<>();
        for (X509Certificate certificate : chain) {
            der.add(certificate.getEncoded());
        }
        return der;
    }
}
