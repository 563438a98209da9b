package io.settler.zerotrust.tls;

import static org.assertj.core.api.Assertions.assertThat;

import io.settler.zerotrust.audit.AuditLog;
import io.settler.zerotrust.authz.PeerAuthorizer;
import io.settler.zerotrust.credentials.CredentialSnapshot;
import io.settler.zerotrust.credentials.CredentialSource;
import io.settler.zerotrust.credentials.TlsIdentity;
import io.settler.zerotrust.credentials.TrustBundle;
import io.settler.zerotrust.pki.DevCertificateAuthority;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.security.cert.Certificate;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;

/**
 * Many concurrent handshakes while the server's credentials are swapped hundreds of times: not
 * one may fail. A swap between the JDK's separate alias, chain and key look-ups would pair one
 * snapshot's chain with another's key, and the client would refuse the server's signature.
 * Rotation goes on until the clients have completed a fixed number of handshakes, so how fast this
 * machine is changes how long the test takes, not what it proves.
 */
class RotationTortureTest {

    private static final int HANDSHAKES = 200;
    private static final int MIN_ROTATIONS = 100;
    private static final int CLIENTS = 4;

    @Test
    void handshakesNeverFailWhileCredentialsRotate() throws Exception {
        DevCertificateAuthority ca = DevCertificateAuthority.create("example.org");
        TrustBundle trust = TrustBundle.of(List.of(ca.rootCertificate()));
        List<TlsIdentity> serverIdentities = IntStream.range(0, 8)
                .mapToObj(i -> ca.leaf("api").dnsNames("localhost").issue())
                .map(c -> TlsIdentity.of(c.privateKey(), c.chain())).toList();
        Set<Certificate> issued = ConcurrentHashMap.newKeySet();
        serverIdentities.forEach(id -> issued.add(id.certificate()));

        SwappableSource serverCredentials = new SwappableSource(
                new CredentialSnapshot(1, serverIdentities.get(0), trust, Instant.now()));
        AuditLog quiet = event -> { };
        MtlsContext server = MtlsContext.server(serverCredentials,
                PeerAuthorizer.builder().allowIdentities("spiffe://example.org/worker").build())
                .auditLog(quiet).build();
        var worker = ca.leaf("worker").issue();
        MtlsContext client = MtlsContext.client(CredentialSource.fixed(
                TlsIdentity.of(worker.privateKey(), worker.chain()), trust)).auditLog(quiet).build();

        AtomicBoolean running = new AtomicBoolean(true);
        // The acceptor outlives the clients: stopping both on one flag left a client that had just
        // connected unaccepted in the backlog until its 10 s read ran out (a thread dump showed it).
        AtomicBoolean accepting = new AtomicBoolean(true);
        AtomicInteger handshakes = new AtomicInteger();
        AtomicInteger rotationCount = new AtomicInteger();
        List<Throwable> failures = new CopyOnWriteArrayList<>();
        Set<Certificate> seen = ConcurrentHashMap.newKeySet();
        // A thread per connection, so no accepted connection waits for a pool thread while its client's
        // 10 s read runs down.
        ExecutorService pool = Executors.newCachedThreadPool();
        try (SSLServerSocket listener = (SSLServerSocket) server.serverSocketFactory()
                .createServerSocket(0, 64, InetAddress.getLoopbackAddress())) {
            listener.setSoTimeout(200);
            int port = listener.getLocalPort();
            Future<?> acceptor = pool.submit(() -> {
                while (accepting.get()) {
                    try {
                        SSLSocket socket = (SSLSocket) listener.accept();
                        pool.submit(() -> {
                            try (socket) {
                                socket.setSoTimeout(10_000);
                                int received = socket.getInputStream().read();
                                if (received != 7) {
                                    failures.add(new AssertionError("server side: received " + received + ", not 7"));
                                }
                                socket.getOutputStream().write(received);
                            } catch (Exception e) {
                                failures.add(new AssertionError("server side: " + e, e));
                            }
                        });
                    } catch (java.net.SocketTimeoutException idle) {
                        // check running again
                    } catch (Exception e) {
                        failures.add(e);
                    }
                }
            });
            List<Future<?>> clients = IntStream.range(0, CLIENTS).<Future<?>>mapToObj(i -> pool.submit(() -> {
                while (running.get()) {
                    try (Socket plain = new Socket()) {
                        plain.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 10_000);
                        try (SSLSocket tls = (SSLSocket) client.socketFactory()
                                .createSocket(plain, "localhost", port, true)) {
                            tls.setSoTimeout(10_000);
                            tls.startHandshake();
                            seen.add(tls.getSession().getPeerCertificates()[0]);
                            tls.getOutputStream().write(7);
                            if (tls.getInputStream().read() != 7) {
                                failures.add(new AssertionError("no echo"));
                            }
                            handshakes.incrementAndGet();
                        }
                    } catch (Exception e) {
                        failures.add(new AssertionError("client side: " + e, e));
                    }
                }
            })).toList();

            int rotations = 0;
            long giveUp = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
            while ((handshakes.get() < HANDSHAKES || rotations < MIN_ROTATIONS) && failures.isEmpty()
                    && System.nanoTime() < giveUp) {
                rotations++;
                serverCredentials.swap(serverIdentities.get(rotations % serverIdentities.size()), trust);
                Thread.sleep(1);
            }
            rotationCount.set(rotations);
            running.set(false);
            for (Future<?> f : clients) {
                f.get(30, TimeUnit.SECONDS);
            }
            accepting.set(false);
            acceptor.get(30, TimeUnit.SECONDS);
        } finally {
            pool.shutdown();
            assertThat(pool.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
        }

        assertThat(failures).as("failed handshakes or exchanges").isEmpty();
        assertThat(handshakes.get()).as("handshakes completed while rotating (within 2 minutes)")
                .isGreaterThanOrEqualTo(HANDSHAKES);
        assertThat(rotationCount.get()).as("rotations during those handshakes").isGreaterThanOrEqualTo(MIN_ROTATIONS);
        assertThat(seen).as("clients saw several server certificates, all of them issued")
                .hasSizeGreaterThan(1).isSubsetOf(issued);
    }
}
