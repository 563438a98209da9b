package io.settler.zerotrust.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.settler.zerotrust.pki.DevCertificateAuthority;
import io.settler.zerotrust.testkit.LocalRedis;
import io.settler.zerotrust.testkit.LocalRedisCluster;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 15 item 1: a workload holding only a service certificate of the trust domain starts its
 * own {@code redis-server} and tries to join the cluster over the TLS cluster bus, to become a
 * replica and take the slots over. The nodes trust the services' CA for TLS clients only
 * ({@link RedisAcl#clusterCaBundle}), so no node completes a bus connection to it.
 */
class ClusterBusIntruderTest {

    private static final DevCertificateAuthority SERVICES = DevCertificateAuthority.create("bus.test");

    private static LocalRedisCluster cluster;

    @TempDir
    Path dir;

    @BeforeAll
    static void start() {
        cluster = LocalRedisCluster.builder(SERVICES).start();
    }

    @AfterAll
    static void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void serviceCertificateCannotJoinClusterBusByMeet() throws IOException {
        // The attacker's node: a service certificate (naming 127.0.0.1) from the services' CA, and it
        // trusts every CA, so that nothing on its own side stops the handshake.
        Path trustsAll = Files.writeString(dir.resolve("intruder-ca.crt"),
                cluster.nodeCertificateAuthority().caBundlePem() + SERVICES.caBundlePem());
        try (LocalRedis intruder = LocalRedis.builder(SERVICES).clusterNode(SERVICES, "billing")
                     .tlsDirectives((port, cert, key, ca, acl) ->
                             RedisAcl.tlsDirectives(port, cert, key, trustsAll, acl))
                     .start();
             LocalRedis node = LocalRedis.builder(SERVICES).clusterNode(cluster.nodeCertificateAuthority(), "redis")
                     .start()) {
            LocalRedis seed = cluster.nodes().get(0);
            // MEET in both directions (an attacker reaching the bus port, or an admin tricked into it).
            meet(seed, intruder);
            meet(intruder, seed);
            String intruderId = intruder.executeAsAdmin("CLUSTER", "MYID");
            String seedId = seed.executeAsAdmin("CLUSTER", "MYID");
            String seedSlots = "0-" + (LocalRedisCluster.SLOTS / 3 - 1);
            // The intruder hears the seed (its own link to the seed's bus is a TLS client, which the
            // seed accepts); then it takes the seed's slots over, as in the reported attack.
            RedisTestSupport.await(Duration.ofSeconds(10), "the intruder hears the seed",
                    () -> joined(intruder, seedId));
            intruder.executeAsAdmin("CLUSTER", "REPLICATE", seedId);
            intruder.executeAsAdmin("CLUSTER", "FAILOVER", "TAKEOVER");

            // The control: a node with a node CA certificate, met the same way, joins every node.
            meet(seed, node);
            String nodeId = node.executeAsAdmin("CLUSTER", "MYID");
            RedisTestSupport.await(Duration.ofSeconds(10), "the node with a node certificate joins every node",
                    () -> cluster.nodes().stream().allMatch(member -> joined(member, nodeId)));

            for (LocalRedis member : cluster.nodes()) {
                String view = member.executeAsAdmin("CLUSTER", "NODES");
                assertThat(view).as("%s's view", member).doesNotContain(intruderId);
                assertThat(Arrays.stream(view.split("\n")).filter(line -> line.startsWith(seedId + " ")))
                        .as("%s: the seed is still the master of its slots", member)
                        .singleElement().asString().contains("master").endsWith(seedSlots);
                assertThat(member.executeAsAdmin("CLUSTER", "INFO")).contains("cluster_state:ok");
            }
        }
    }

    @Test
    void nodesLoadTheRenderedClusterCaBundle() throws IOException {
        String rendered = RedisAcl.clusterCaBundle(List.of(cluster.nodeCertificateAuthority().rootCertificate()),
                List.of(SERVICES.rootCertificate()));
        for (LocalRedis member : cluster.nodes()) {
            String file = member.executeAsAdmin("CONFIG", "GET", "tls-ca-cert-file").split("\n")[1];
            assertThat(Files.readString(Path.of(file))).as("the tested nodes load what RedisAcl renders")
                    .isEqualTo(rendered);
        }
        assertThat(rendered).contains("-----BEGIN TRUSTED CERTIFICATE-----");
    }

    @Test
    void clusterCaBundleRefusesANodeCaThatAlsoSignsServices() {
        List<X509Certificate> services = List.of(SERVICES.rootCertificate());
        for (List<X509Certificate> nodeCas : List.of(services, List.<X509Certificate>of())) {
            assertThatThrownBy(() -> RedisAcl.clusterCaBundle(nodeCas, services))
                    .isInstanceOfSatisfying(RedisTlsException.class, e -> {
                        assertThat(e.reason()).isEqualTo(RedisTlsException.Reason.INVALID_CONFIGURATION);
                        assertThat(e.getMessage()).contains("node CA");
                    });
        }
    }

    private static void meet(LocalRedis from, LocalRedis to) {
        from.executeAsAdmin("CLUSTER", "MEET", "127.0.0.1", Integer.toString(to.tlsPort()),
                Integer.toString(to.clusterBusPort()));
    }

    /** Whether {@code member} knows {@code nodeId} as a node that completed the handshake. */
    private static boolean joined(LocalRedis member, String nodeId) {
        return Arrays.stream(member.executeAsAdmin("CLUSTER", "NODES").split("\n"))
                .anyMatch(line -> line.startsWith(nodeId + " ") && !line.contains("handshake"));
    }
}
