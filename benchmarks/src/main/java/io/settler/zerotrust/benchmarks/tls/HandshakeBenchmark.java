package io.settler.zerotrust.benchmarks.tls;

import io.settler.zerotrust.audit.AuditLog;
import io.settler.zerotrust.pki.IssuedCertificate;
import io.settler.zerotrust.tls.MtlsContext;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.TrustManagerFactory;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * One full mutual-TLS 1.3 handshake between a client and a server engine in memory (no sockets),
 * EC P-256 keys on both sides, a fresh session each time (no resumption).
 *
 * <p>{@code baseline}: JDK {@code SSLContext}s built by hand from the default {@code KeyManagerFactory}
 * (SunX509) and a PKIX {@code TrustManagerFactory}, TLS 1.3 only, client authentication required,
 * HTTPS host-name check on the client: what a careful user writes without this library.
 * {@code mtlsContext}: our {@link MtlsContext} server and client, which add snapshot key
 * management, our peer verification (PKIX plus the extra checks), the authorizer and an audit
 * event per peer (sent to a no-op log so logging cost is not measured). Higher is better
 * (handshakes per second).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class HandshakeBenchmark {

    private SSLContext plainServer;
    private SSLContext plainClient;
    private SSLParameters plainServerParameters;
    private SSLParameters plainClientParameters;
    private MtlsContext ourServer;
    private MtlsContext ourClient;
    private HandshakeFixture fixture;

    /** Issues the certificates and builds both pairs of contexts once per trial. */
    @Setup
    public void setUp() throws Exception {
        fixture = new HandshakeFixture();
        plainServer = plainContext(fixture.server, fixture.ca.rootCertificate());
        plainClient = plainContext(fixture.client, fixture.ca.rootCertificate());
        plainServerParameters = new SSLParameters(null, new String[] {"TLSv1.3"});
        plainServerParameters.setNeedClientAuth(true);
        plainClientParameters = new SSLParameters(null, new String[] {"TLSv1.3"});
        plainClientParameters.setEndpointIdentificationAlgorithm("HTTPS");

        AuditLog noop = event -> { };
        ourServer = fixture.server(noop);
        ourClient = fixture.client(noop);

        baseline();
        mtlsContext(); // both must complete before anything is measured
    }

    /** A hand-built JDK mTLS handshake. */
    @Benchmark
    public boolean baseline() throws SSLException {
        SSLEngine serverEngine = plainServer.createSSLEngine();
        serverEngine.setUseClientMode(false);
        serverEngine.setSSLParameters(plainServerParameters);
        SSLEngine clientEngine = plainClient.createSSLEngine("localhost", fixture.nextPort());
        clientEngine.setUseClientMode(true);
        clientEngine.setSSLParameters(plainClientParameters);
        return EngineHandshakes.handshake(clientEngine, serverEngine);
    }

    /** The same handshake through our contexts. */
    @Benchmark
    public boolean mtlsContext() throws SSLException {
        return EngineHandshakes.handshake(ourClient.newEngine("localhost", fixture.nextPort()),
                ourServer.newEngine(null, -1));
    }

    private static SSLContext plainContext(IssuedCertificate own, X509Certificate root) throws GeneralSecurityException,
            java.io.IOException {
        KeyStore keys = KeyStore.getInstance("PKCS12");
        keys.load(null, null);
        keys.setKeyEntry("own", own.privateKey(), new char[0], own.chain().toArray(X509Certificate[]::new));
        // The default (SunX509) keeps keys in memory; "PKIX" would decrypt the PKCS#12 entry on
        // every handshake and make the baseline look far slower than a careful user's.
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(keys, new char[0]);
        KeyStore anchors = KeyStore.getInstance("PKCS12");
        anchors.load(null, null);
        anchors.setCertificateEntry("root", root);
        TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
        tmf.init(anchors);
        SSLContext context = SSLContext.getInstance("TLSv1.3");
        context.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
        return context;
    }
}
