package io.settler.zerotrust.benchmarks.tls;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.settler.zerotrust.audit.AuditLog;
import io.settler.zerotrust.authz.PeerAuthorizer;
import io.settler.zerotrust.credentials.CredentialSource;
import io.settler.zerotrust.credentials.TlsIdentity;
import io.settler.zerotrust.credentials.TrustBundle;
import io.settler.zerotrust.micrometer.ZeroTrustMetrics;
import io.settler.zerotrust.pki.DevCertificateAuthority;
import io.settler.zerotrust.pki.IssuedCertificate;
import io.settler.zerotrust.tls.MtlsContext;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLException;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * The cost of metrics on the handshake path: one full mutual-TLS 1.3 handshake between our
 * {@link MtlsContext}s in memory, as {@link HandshakeBenchmark#mtlsContext()}.
 *
 * <p>{@code baseline}: contexts whose audit log is the default SLF4J log (no SLF4J provider here, so it
 * drops every event, as a service that routes audit elsewhere would). {@code withMetrics}: the same
 * contexts with {@code AuditLog.slf4j().alsoTo(metrics.auditLog())} on a {@link SimpleMeterRegistry}:
 * each handshake's {@code peer.accepted} events are counted. Goal (issue 18): not measurably slower.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class MetricsHandshakeBenchmark {

    private MtlsContext plainServer;
    private MtlsContext plainClient;
    private MtlsContext meteredServer;
    private MtlsContext meteredClient;
    /** A new peer port for every handshake: client session caches are keyed by host and port, so nothing resumes. */
    private int port = 1;

    /** Issues the certificates and builds both pairs of contexts once per trial. */
    @Setup
    public void setUp() throws Exception {
        DevCertificateAuthority ca = DevCertificateAuthority.create("example.org");
        IssuedCertificate server = ca.leaf("api").dnsNames("localhost").issue();
        IssuedCertificate client = ca.leaf("worker").issue();
        TrustBundle trust = TrustBundle.of(List.of(ca.rootCertificate()));
        CredentialSource serverCredentials = CredentialSource.fixed(TlsIdentity.of(server.privateKey(), server.chain()),
                trust);
        CredentialSource clientCredentials = CredentialSource.fixed(TlsIdentity.of(client.privateKey(), client.chain()),
                trust);
        PeerAuthorizer workers = PeerAuthorizer.builder().allowIdentities("spiffe://example.org/worker").build();
        AuditLog metered = AuditLog.slf4j().alsoTo(
                ZeroTrustMetrics.builder(new SimpleMeterRegistry()).build().auditLog());

        plainServer = MtlsContext.server(serverCredentials, workers).auditLog(AuditLog.slf4j()).build();
        plainClient = MtlsContext.client(clientCredentials).auditLog(AuditLog.slf4j()).build();
        meteredServer = MtlsContext.server(serverCredentials, workers).auditLog(metered).build();
        meteredClient = MtlsContext.client(clientCredentials).auditLog(metered).build();

        baseline();
        withMetrics(); // both must complete before anything is measured
    }

    /** A handshake audited to the SLF4J log only. */
    @Benchmark
    public boolean baseline() throws SSLException {
        return EngineHandshakes.handshake(plainClient.newEngine("localhost", nextPort()),
                plainServer.newEngine(null, -1));
    }

    /** The same handshake, its decisions also counted in a meter registry. */
    @Benchmark
    public boolean withMetrics() throws SSLException {
        return EngineHandshakes.handshake(meteredClient.newEngine("localhost", nextPort()),
                meteredServer.newEngine(null, -1));
    }

    private int nextPort() {
        port = port == 65535 ? 1 : port + 1;
        return port;
    }
}
