package io.settler.zerotrust.benchmarks.redis;

import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.SslOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.settler.zerotrust.pki.DevCertificateAuthority;
import io.settler.zerotrust.pki.IssuedCertificate;
import io.settler.zerotrust.redis.HardenedRedis;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.TrustManagerFactory;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * One {@code SET} and one {@code GET} of a 64-byte value, synchronously, over an established
 * TLS 1.3 connection with a client certificate, to the testkit's Redis on loopback (started once
 * per trial; both clients talk to the same server in the same run).
 *
 * <p>{@code baseline}: a plain Lettuce {@code RedisClient} with {@code rediss://}, verify mode FULL,
 * TLS 1.3, a JDK key and trust manager factory over the same certificate, the same ACL user and
 * password. {@code hardenedRedis}: {@link HardenedRedis}, which adds core's key and trust managers,
 * the handshake guard in the pipeline, the password read per connect, and safe client options
 * (reject while disconnected, bounded queue, timeouts). Higher is better (SET+GET pairs per second).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class RedisGetSetBenchmark {

    private static final String VALUE = "v".repeat(64);

    private BenchmarkRedis redis;
    private RedisCommands<String, String> ours;
    private RedisClient plain;
    private StatefulRedisConnection<String, String> plainConnection;
    private RedisCommands<String, String> theirs;

    /** Starts Redis and connects both clients. */
    @Setup
    public void setUp() throws Exception {
        DevCertificateAuthority ca = DevCertificateAuthority.create("bench.test");
        redis = new BenchmarkRedis(ca, "~bench:* +get +set");
        ours = redis.commands();

        IssuedCertificate client = redis.clientCertificate();
        plain = RedisClient.create(RedisURI.builder().withHost(redis.server().host())
                .withPort(redis.server().tlsPort()).withSsl(true).withVerifyPeer(true)
                .withAuthentication(redis.user(), redis.password()).build());
        plain.setOptions(ClientOptions.builder().sslOptions(SslOptions.builder().jdkSslProvider()
                .protocols("TLSv1.3").keyManager(keyManagers(client)).trustManager(trustManagers(ca.rootCertificate()))
                .build()).build());
        plainConnection = plain.connect();
        theirs = plainConnection.sync();

        baseline();
        hardenedRedis(); // both must work before anything is measured
    }

    /** Closes both clients and stops Redis. */
    @TearDown
    public void tearDown() throws Exception {
        plainConnection.close();
        plain.shutdown();
        redis.close();
    }

    /** SET + GET through a plain Lettuce TLS client. */
    @Benchmark
    public String baseline() {
        theirs.set("bench:plain", VALUE);
        return theirs.get("bench:plain");
    }

    /** SET + GET through {@link HardenedRedis}. */
    @Benchmark
    public String hardenedRedis() {
        ours.set("bench:ours", VALUE);
        return ours.get("bench:ours");
    }

    private static KeyManagerFactory keyManagers(IssuedCertificate own) throws Exception {
        KeyStore keys = KeyStore.getInstance("PKCS12");
        keys.load(null, null);
        keys.setKeyEntry("own", own.privateKey(), new char[0], own.chain().toArray(X509Certificate[]::new));
        KeyManagerFactory factory = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        factory.init(keys, new char[0]);
        return factory;
    }

    private static TrustManagerFactory trustManagers(X509Certificate root) throws Exception {
        KeyStore anchors = KeyStore.getInstance("PKCS12");
        anchors.load(null, null);
        anchors.setCertificateEntry("root", root);
        TrustManagerFactory factory = TrustManagerFactory.getInstance("PKIX");
        factory.init(anchors);
        return factory;
    }
}
