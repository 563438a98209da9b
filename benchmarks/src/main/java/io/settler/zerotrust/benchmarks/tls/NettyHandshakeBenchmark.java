package io.settler.zerotrust.benchmarks.tls;

import io.netty.buffer.ByteBufAllocator;
import io.netty.util.ReferenceCountUtil;
import io.settler.zerotrust.audit.AuditLog;
import io.settler.zerotrust.netty.NettyMtls;
import io.settler.zerotrust.tls.MtlsContext;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * One full mutual-TLS 1.3 handshake between Netty client and server engines in memory (no
 * sockets), built by {@link NettyMtls} from the same {@link MtlsContext}s, EC P-256 on both sides,
 * no resumption: the same verification (PKIX, identity, authorizer, audit to a no-op log) on both
 * providers.
 *
 * <p>{@code baseline}: the JDK provider. {@code openSsl}: the OpenSSL provider (BoringSSL through
 * netty-tcnative). Higher is better (handshakes per second).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class NettyHandshakeBenchmark {

    private NettyMtls jdkServer;
    private NettyMtls jdkClient;
    private NettyMtls openSslServer;
    private NettyMtls openSslClient;
    private HandshakeFixture fixture;

    /** Issues the certificates and builds both providers' contexts once per trial. */
    @Setup
    public void setUp() throws Exception {
        fixture = new HandshakeFixture();
        AuditLog noop = event -> { };
        MtlsContext ourServer = fixture.server(noop);
        MtlsContext ourClient = fixture.client(noop);
        jdkServer = NettyMtls.builder(ourServer).provider(NettyMtls.Provider.JDK).auditLog(noop).build();
        jdkClient = NettyMtls.builder(ourClient).provider(NettyMtls.Provider.JDK).auditLog(noop).build();
        openSslServer = NettyMtls.builder(ourServer).provider(NettyMtls.Provider.OPENSSL).auditLog(noop).build();
        openSslClient = NettyMtls.builder(ourClient).provider(NettyMtls.Provider.OPENSSL).auditLog(noop).build();

        baseline();
        openSsl(); // both must complete before anything is measured
    }

    /** A handshake with the JDK provider. */
    @Benchmark
    public boolean baseline() throws SSLException {
        return handshake(jdkClient, jdkServer);
    }

    /** The same handshake with the OpenSSL provider. */
    @Benchmark
    public boolean openSsl() throws SSLException {
        return handshake(openSslClient, openSslServer);
    }

    private boolean handshake(NettyMtls client, NettyMtls server) throws SSLException {
        SSLEngine clientEngine = client.sslContext().newEngine(ByteBufAllocator.DEFAULT, "localhost",
                fixture.nextPort());
        SSLEngine serverEngine = server.sslContext().newEngine(ByteBufAllocator.DEFAULT);
        try {
            return EngineHandshakes.handshake(clientEngine, serverEngine);
        } finally {
            // OpenSSL engines hold native memory until released; JDK engines ignore this.
            ReferenceCountUtil.release(clientEngine);
            ReferenceCountUtil.release(serverEngine);
        }
    }
}
