package io.settler.zerotrust.netty;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.Channel;
import io.settler.zerotrust.credentials.FileCredentialSource;
import io.settler.zerotrust.pki.IssuedCertificate;
import io.settler.zerotrust.tls.MtlsContext;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Client threads hammer a server while its certificate files are replaced and reloaded: not one
 * request may fail, and after each rotation a new connection meets the new certificate (with
 * OpenSSL too, which caches key material per key-manager alias).
 */
@ParameterizedClass
@EnumSource(value = NettyMtls.Provider.class, names = {"JDK", "OPENSSL"})
class RotationUnderLoadTest {

    private static final int ROTATIONS = 12;
    private static final int CLIENT_THREADS = 4;
    private static final int REQUESTS_BETWEEN_ROTATIONS = 8;

    @Parameter
    NettyMtls.Provider provider;

    @TempDir
    Path directory;

    private final TestPki pki = new TestPki();

    @Test
    void credentialsRotateUnderLoadWithZeroFailedRequests() throws Exception {
        List<IssuedCertificate> certificates = IntStream.range(0, ROTATIONS + 1)
                .mapToObj(i -> TestPki.CA.leaf("api").serverAndClient().ipAddresses("127.0.0.1").issue()).toList();
        certificates.get(0).writePem(directory, "api");
        Path chain = directory.resolve("api.crt");
        Path key = directory.resolve("api.key");
        Path trust = directory.resolve("ca.crt");
        AtomicInteger completed = new AtomicInteger();
        Queue<Throwable> failures = new ConcurrentLinkedQueue<>();
        AtomicBoolean stop = new AtomicBoolean();
        ExecutorService threads = Executors.newFixedThreadPool(CLIENT_THREADS);
        // The watcher stays out of the way (an hour's quiet period): the test reloads explicitly.
        try (FileCredentialSource credentials = FileCredentialSource.builder(chain, key, trust)
                     .quietPeriod(Duration.ofHours(1)).recheckInterval(Duration.ofHours(1)).auditLog(pki.audit).start();
             TestServer server = TestServer.start(pki.server(provider, credentials, TestPki.onlyWorker()));
             MtlsHttpClient http = MtlsHttpClient.builder(pki.client(provider, TestPki.WORKER)).threads(2).build();
             TestClient probes = new TestClient()) {
            List<Future<?>> load = IntStream.range(0, CLIENT_THREADS).mapToObj(i -> threads.submit(() -> {
                while (!stop.get()) {
                    try {
                        MtlsHttpClient.Response response = http.get("127.0.0.1", server.port(), "/")
                                .get(10, TimeUnit.SECONDS);
                        if (response.status() != 200) {
                            failures.add(new AssertionError("status " + response.status()));
                        }
                    } catch (Exception e) {
                        failures.add(e);
                    }
                    completed.incrementAndGet();
                }
            })).collect(java.util.stream.Collectors.toList());

            for (int rotation = 1; rotation <= ROTATIONS; rotation++) {
                awaitRequests(completed, completed.get() + REQUESTS_BETWEEN_ROTATIONS);
                certificates.get(rotation).writePem(directory, "api");
                assertThat(credentials.reload()).isTrue();
                // A fresh client (no session to resume) must meet the new certificate at once.
                assertThat(serverCertificateSeenByNewConnection(probes, server.port()))
                        .isEqualTo(certificates.get(rotation).certificate());
            }
            awaitRequests(completed, completed.get() + REQUESTS_BETWEEN_ROTATIONS);
            stop.set(true);
            for (Future<?> thread : load) {
                thread.get(30, TimeUnit.SECONDS);
            }
        } finally {
            threads.shutdownNow();
        }
        assertThat(failures).isEmpty();
        assertThat(completed.get()).isGreaterThanOrEqualTo((ROTATIONS + 1) * REQUESTS_BETWEEN_ROTATIONS);
        assertThat(pki.audit.events()).filteredOn(event -> event.action().equals("credentials.rotated"))
                .hasSize(ROTATIONS);
    }

    private X509Certificate serverCertificateSeenByNewConnection(TestClient probes, int port) throws Exception {
        NettyMtls fresh = NettyMtls.builder(MtlsContext.client(TestPki.credentials(TestPki.WORKER)).auditLog(pki.audit)
                .build()).provider(provider).auditLog(pki.audit).build();
        Channel channel = probes.connect(fresh, port);
        try {
            assertThat(TestClient.handshake(channel)).isTrue();
            // The attributes are set on the event loop, in the task that completed the handshake.
            return channel.eventLoop().submit(() -> PeerIdentityHandler.peerCertificate(channel).orElseThrow())
                    .get(10, TimeUnit.SECONDS);
        } finally {
            channel.close().syncUninterruptibly();
        }
    }

    private static void awaitRequests(AtomicInteger completed, int target) throws InterruptedException {
        Instant deadline = Instant.now().plus(Duration.ofSeconds(60));
        while (completed.get() < target) {
            if (Instant.now().isAfter(deadline)) {
                throw new AssertionError("the load stalled at " + completed.get() + " requests");
            }
            Thread.sleep(5);
        }
    }
}
