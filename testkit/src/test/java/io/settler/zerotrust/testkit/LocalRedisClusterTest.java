package io.settler.zerotrust.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import io.settler.zerotrust.pki.DevCertificateAuthority;
import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** A three-node TLS Redis Cluster forms on loopback, serves every slot and refuses plaintext. */
class LocalRedisClusterTest {

    private static final String WORKER = "kit_worker";
    private static final String WORKER_PASSWORD = "worker-secret-1";

    private static LocalRedisCluster cluster;

    @BeforeAll
    static void start() {
        cluster = LocalRedisCluster.builder(DevCertificateAuthority.create("cluster.test"))
                .user(WORKER, WORKER_PASSWORD, "~* +@read +@write +@connection +cluster|slots +cluster|shards")
                .start();
    }

    @AfterAll
    static void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void everyNodeReportsClusterStateOk() {
        assertThat(cluster.nodes()).hasSize(3);
        for (LocalRedis node : cluster.nodes()) {
            String info = node.executeAsAdmin("CLUSTER", "INFO");
            assertThat(info).contains("cluster_state:ok", "cluster_slots_assigned:16384", "cluster_known_nodes:3");
            assertThat(node.executeAsAdmin("CONFIG", "GET", "tls-cluster")).isEqualTo("tls-cluster\nyes");
            assertThat(node.executeAsAdmin("CONFIG", "GET", "tls-replication")).isEqualTo("tls-replication\nyes");
        }
    }

    @Test
    void slotsCoverAllHashSlotsOnce() {
        Set<Integer> covered = new HashSet<>();
        for (LocalRedis node : cluster.nodes()) {
            String nodeSlots = node.executeAsAdmin("CLUSTER", "NODES");
            for (String line : nodeSlots.split("\n")) {
                if (line.contains("myself")) {
                    String[] fields = line.split(" ");
                    for (int i = 8; i < fields.length; i++) {
                        String[] range = fields[i].split("-");
                        int first = Integer.parseInt(range[0]);
                        int last = range.length == 2 ? Integer.parseInt(range[1]) : first;
                        for (int slot = first; slot <= last; slot++) {
                            assertThat(covered.add(slot)).as("slot %d served once", slot).isTrue();
                        }
                    }
                }
            }
        }
        assertThat(covered).hasSize(LocalRedisCluster.SLOTS);
    }

    @Test
    void authenticatedClientReachesEveryNode() throws IOException {
        for (LocalRedis node : cluster.nodes()) {
            SSLContext client = ClientTls.context(Optional.of(cluster.clientCertificate(WORKER)),
                    cluster.nodeCertificateAuthority().rootCertificate());
            try (Resp connection = new Resp(ClientTls.connect(client, node.host(), node.tlsPort(),
                    RedisClients.TIMEOUT))) {
                assertThat(connection.call("AUTH", WORKER, WORKER_PASSWORD)).isEqualTo("OK");
                assertThat(connection.call("PING")).isEqualTo("PONG");
            }
        }
        assertThat(cluster.uris()).hasSize(3).allMatch(uri -> uri.startsWith("rediss://localhost:"));
    }

    @Test
    void restartedNodeRejoinsWithItsSavedUsers() throws IOException {
        cluster.createUser("kit_saved", "saved-secret-2", "+@connection"); // ACL SAVE on every node
        for (LocalRedis node : cluster.nodes()) {
            node.executeAsAdmin("ACL", "SETUSER", "kit_unsaved", "on", ">unsaved-secret-3", "+@connection");
        }
        String before = cluster.nodes().get(1).executeAsAdmin("CLUSTER", "MYID");
        cluster.restart(1);
        LocalRedis node = cluster.nodes().get(1);
        assertThat(node.executeAsAdmin("CLUSTER", "MYID")).isEqualTo(before);
        assertThat(node.executeAsAdmin("CLUSTER", "INFO")).contains("cluster_state:ok", "cluster_known_nodes:3");
        assertThat(node.executeAsAdmin("ACL", "USERS").split("\n")).contains("kit_saved", WORKER)
                .doesNotContain("kit_unsaved");
        SSLContext client = ClientTls.context(Optional.of(cluster.clientCertificate("kit_saved")),
                cluster.nodeCertificateAuthority().rootCertificate());
        try (Resp connection = new Resp(ClientTls.connect(client, node.host(), node.tlsPort(), RedisClients.TIMEOUT))) {
            assertThat(connection.call("AUTH", "kit_saved", "saved-secret-2")).isEqualTo("OK");
        }
    }

    @Test
    void refusesPlaintextConnection() throws IOException {
        for (LocalRedis node : cluster.nodes()) {
            assertThat(node.executeAsAdmin("CONFIG", "GET", "port")).isEqualTo("port\n0");
            for (int port : List.of(node.tlsPort(), node.clusterBusPort())) {
                try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), port)) {
                    socket.setSoTimeout((int) RedisClients.TIMEOUT.toMillis());
                    socket.getOutputStream().write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
                    socket.getOutputStream().flush();
                    assertThat(RedisClients.readUntilClosed(socket.getInputStream())).doesNotContain("PONG");
                }
            }
        }
    }
}
