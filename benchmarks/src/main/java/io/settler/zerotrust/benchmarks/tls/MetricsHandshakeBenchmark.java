package io.settler.zerotrust.benchmarks.tls;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.settler.zerotrust.audit.AuditLog;
import io.settler.zerotrust.micrometer.ZeroTrustMetrics;
import io.settler.zerotrust.tls.MtlsContext;
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
    private HandshakeFixture fixture;

    /** Issues the certificates and builds both pairs of contexts once per trial. */
    @Setup
    public void setUp() throws Exception {
        fixture = new HandshakeFixture();
        AuditLog metered = AuditLog.slf4j().alsoTo(
                ZeroTrustMetrics.builder(new SimpleMeterRegistry()).build().auditLog());

        plainServer = fixture.server(AuditLog.slf4j());
        plainClient = fixture.client(AuditLog.slf4j());
        meteredServer = fixture.server(metered);
        meteredClient = fixture.client(metered);

        baseline();
        withMetrics(); // both must complete before anything is measured
    }

    /** A handshake audited to the SLF4J log only. */
    @Benchmark
    public boolean baseline() throws SSLException {
        return EngineHandshakes.handshake(plainClient.newEngine("localhost", fixture.nextPort()),
                plainServer.newEngine(null, -1));
    }

    /** The same handshake, its decisions also counted in a meter registry. */
    @Benchmark
    public boolean withMetrics() throws SSLException {
        return EngineHandshakes.handshake(meteredClient.newEngine("localhost", fixture.nextPort()),
                meteredServer.newEngine(null, -1));
    }
}
