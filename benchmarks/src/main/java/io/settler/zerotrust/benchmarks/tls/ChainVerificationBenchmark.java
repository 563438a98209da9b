package io.settler.zerotrust.benchmarks.tls;

import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import io.netty.util.ReferenceCountUtil;
import io.settler.zerotrust.audit.AuditLog;
import io.settler.zerotrust.authz.PeerAuthorizer;
import io.settler.zerotrust.credentials.CredentialSource;
import io.settler.zerotrust.credentials.TlsIdentity;
import io.settler.zerotrust.credentials.TrustBundle;
import io.settler.zerotrust.netty.NettyMtls;
import io.settler.zerotrust.pki.DevCertificateAuthority;
import io.settler.zerotrust.pki.IssuedCertificate;
import io.settler.zerotrust.tls.MtlsContext;
import io.settler.zerotrust.trust.HostileChains;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * What a client without a certificate from our CA can make a server spend on one mutual-TLS 1.3
 * handshake by the chain it presents (finding 9), against a valid client's handshake, through
 * {@link NettyMtls} servers on both providers (engines in memory, no sockets, no resumption,
 * audit to a no-op log). Both sides of each handshake run in the measured thread, the attacker's
 * side included (it signs its CertificateVerify like a valid client).
 *
 * <p>{@code baseline}: a valid client, EC P-256 leaf issued by the server's CA. The attacks, each
 * built by {@link HostileChains} with the attacker's own P-256 keys:
 * <ul>
 *   <li>{@code selfIssuedMaze}: 7 self-issued CAs bearing the CA's name, each signing the next
 *       (8 certificates, as many as the JDK server takes from a client);</li>
 *   <li>{@code largestSelfIssuedMaze}: the same with 39 CAs (40 certificates, the verifier's limit;
 *       the JDK provider refuses more than 8 itself);</li>
 *   <li>{@code fanOfFakeCas}: 39 CAs that each claim the server's CA as issuer;</li>
 *   <li>{@code longChain}: 7 CAs of distinct names in one line up to the CA's name.</li>
 * </ul>
 * Goal: each attack costs at most 3x the baseline (ratio at least 0.33). Lower is better (time per
 * handshake). Each side presents the same chain every time, and the JDK's certificate factory
 * hands out cached objects that remember their last signature check, so this measures repeated
 * chains; {@link PeerVerificationBenchmark} measures the verification of chains never seen before.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class ChainVerificationBenchmark {

    /** The server's TLS provider. */
    @Param({"JDK", "OPENSSL"})
    public String provider;

    private NettyMtls server;
    private SslContext validClient;
    private SslContext maze;
    private SslContext largestMaze;
    private SslContext fan;
    private SslContext line;
    /** A new peer port for every handshake, so nothing resumes. */
    private int port = 1;

    /** Issues the certificates, builds the attackers' chains and checks that each attack is refused. */
    @Setup
    public void setUp() throws Exception {
        DevCertificateAuthority ca = DevCertificateAuthority.create("example.org");
        IssuedCertificate serverCertificate = ca.leaf("api").dnsNames("localhost").issue();
        IssuedCertificate worker = ca.leaf("worker").issue();
        TrustBundle trust = TrustBundle.of(List.of(ca.rootCertificate()));
        AuditLog noop = event -> { };
        TlsIdentity identity = TlsIdentity.of(serverCertificate.privateKey(), serverCertificate.chain());
        MtlsContext ours = MtlsContext.server(CredentialSource.fixed(identity, trust),
                PeerAuthorizer.builder().allowIdentities("spiffe://example.org/worker").build()).auditLog(noop).build();
        NettyMtls.Provider serverProvider = NettyMtls.Provider.valueOf(provider);
        server = NettyMtls.builder(ours).provider(serverProvider).auditLog(noop).build();

        HostileChains attacker = HostileChains.against(ca.rootCertificate());
        validClient = client(worker.privateKey(), worker.chain());
        maze = client(attacker.selfIssuedMaze(7));
        largestMaze = client(attacker.selfIssuedMaze(39));
        fan = client(attacker.fan(39));
        line = client(attacker.longLine(7));

        if (!baseline()) {
            throw new IllegalStateException("the valid client's handshake failed");
        }
        if (selfIssuedMaze() || largestSelfIssuedMaze() || fanOfFakeCas() || longChain()) {
            throw new IllegalStateException("an attacker's chain was accepted");
        }
    }

    /** A valid client's handshake. */
    @Benchmark
    public boolean baseline() {
        return handshake(validClient);
    }

    /** 8 certificates: self-issued CAs bearing the CA's name. */
    @Benchmark
    public boolean selfIssuedMaze() {
        return handshake(maze);
    }

    /** 40 certificates: self-issued CAs bearing the CA's name. */
    @Benchmark
    public boolean largestSelfIssuedMaze() {
        return handshake(largestMaze);
    }

    /** 40 certificates: CAs that each claim the server's CA as issuer. */
    @Benchmark
    public boolean fanOfFakeCas() {
        return handshake(fan);
    }

    /** 8 certificates: a line of CAs up to the CA's name. */
    @Benchmark
    public boolean longChain() {
        return handshake(line);
    }

    private SslContext client(HostileChains.Chain chain) throws SSLException {
        return client(chain.leafKey(), chain.certificates());
    }

    private SslContext client(PrivateKey key, List<X509Certificate> chain) throws SSLException {
        // The attacker's client: the same provider as the server, trusts any server.
        return SslContextBuilder.forClient()
                .sslProvider("OPENSSL".equals(provider) ? SslProvider.OPENSSL : SslProvider.JDK)
                .trustManager(InsecureTrustManagerFactory.INSTANCE)
                .keyManager(key, chain)
                .protocols("TLSv1.3")
                .build();
    }

    /** Whether the handshake completed on both sides; false when the server refused the client. */
    private boolean handshake(SslContext client) {
        port = port == 65535 ? 1 : port + 1;
        SSLEngine clientEngine = client.newEngine(ByteBufAllocator.DEFAULT, "localhost", port);
        SSLEngine serverEngine = server.sslContext().newEngine(ByteBufAllocator.DEFAULT);
        try {
            return EngineHandshakes.handshake(clientEngine, serverEngine);
        } catch (SSLException refused) {
            return false;
        } finally {
            ReferenceCountUtil.release(clientEngine);
            ReferenceCountUtil.release(serverEngine);
        }
    }
}
