package io.settler.zerotrust.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.settler.zerotrust.pki.DevCertificateAuthority;
import io.settler.zerotrust.testkit.LocalRedis;
import io.settler.zerotrust.testkit.LocalRedisCluster;
import io.settler.zerotrust.testkit.RecordingAuditLog;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 15 item 1, the client side: a node whose certificate names the address it announces
 * ({@code 127.0.0.1}, {@code localhost}) but not the Redis identity is refused, as the seed and
 * when learned from the topology. Node 2 of this cluster carries {@code spiffe://ident.test/billing}
 * (what an intruder's service certificate would carry), the others {@code spiffe://ident.test/redis}.
 */
class ClusterNodeIdentityTest {

    private static final String USER = "id_api";
    private static final String PASSWORD = "id-api-secret-5c1e";
    private static final String RULES = "~{id}:* " + RedisTestSupport.RULES + " "
            + String.join(" ", RedisAcl.clusterClientRules());

    private static LocalRedisCluster cluster;

    @TempDir
    Path dir;

    private final RecordingAuditLog audit = RecordingAuditLog.logging();

    @BeforeAll
    static void start() {
        cluster = LocalRedisCluster.builder(DevCertificateAuthority.create("ident.test"))
                .user(USER, PASSWORD, RULES)
                .nodeIdentity(2, "billing")
                .start();
    }

    @AfterAll
    static void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    private HardenedRedis.Builder builder() throws IOException {
        return RedisTestSupport.clusterBuilder(cluster, USER, RedisTestSupport.passwordFile(dir, PASSWORD), audit);
    }

    @Test
    void clusterClientWithoutNodeIdentityIsRefused() throws IOException {
        // How a cluster client was built before: the nodes were checked by the address they announce.
        HardenedRedis.Builder byAddress = builder().expectedServer("127.0.0.1");
        assertThatThrownBy(byAddress::buildCluster).isInstanceOfSatisfying(RedisTlsException.class, e -> {
            assertThat(e.reason()).isEqualTo(RedisTlsException.Reason.INVALID_CONFIGURATION);
            assertThat(e.getMessage()).contains("expectedServer(\"spiffe://");
        });
        LocalRedis seed = cluster.nodes().get(0);
        HardenedRedis.Builder unset = RedisTestSupport.builder(seed, USER, RedisTestSupport.passwordFile(dir, PASSWORD),
                audit).credentials(RedisTestSupport.clusterCredentials(cluster, USER));
        assertThatThrownBy(unset::buildCluster).isInstanceOfSatisfying(RedisTlsException.class,
                e -> assertThat(e.reason()).isEqualTo(RedisTlsException.Reason.INVALID_CONFIGURATION));
        assertThat(audit.withAction("redis.refused")).hasSize(2)
                .allSatisfy(event -> assertThat(event.fields()).containsEntry("reason", String.valueOf(
                        RedisTlsException.Reason.INVALID_CONFIGURATION)));
    }

    @Test
    void rogueNodeLearnedFromTopologyIsRefused() throws IOException {
        String rogue = "127.0.0.1:" + cluster.nodes().get(2).tlsPort();
        try (HardenedRedisCluster client = builder().buildCluster()) { // seeded with a genuine node
            assertThatThrownBy(client::connect).isInstanceOfSatisfying(RedisTlsException.class, e -> {
                assertThat(e.reason()).isEqualTo(RedisTlsException.Reason.HANDSHAKE_FAILED);
                assertThat(e.getMessage()).contains("node " + rogue, cluster.nodeIdentity());
            });
        }
        assertThat(audit.withAction("redis.refused")).anySatisfy(event -> assertThat(event.fields())
                .containsEntry("reason", "HANDSHAKE_FAILED").containsEntry("server", rogue));
        assertThat(audit.withAction("redis.tls.refused")).anySatisfy(event -> assertThat(event.fields())
                .containsEntry("reason", "HANDSHAKE_FAILED")
                .hasEntrySatisfying("remote", remote -> assertThat(remote.toString()).endsWith(rogue)));
        assertThat(audit.withAction("redis.connected")).extracting(event -> event.fields().get("server"))
                .doesNotContain(rogue);
    }

    @Test
    void rogueSeedNamingLoopbackIsRefused() throws IOException {
        LocalRedis rogue = cluster.nodes().get(2);
        try (HardenedRedisCluster client = builder().host("127.0.0.1").port(rogue.tlsPort()).buildCluster()) {
            assertThatThrownBy(client::connect).isInstanceOfSatisfying(RedisTlsException.class,
                    e -> assertThat(e.reason()).isEqualTo(RedisTlsException.Reason.HANDSHAKE_FAILED));
        }
        assertThat(audit.withAction("redis.refused")).singleElement().satisfies(event -> assertThat(event.fields())
                .containsEntry("reason", "HANDSHAKE_FAILED"));
        assertThat(audit.withAction("redis.tls.refused")).isNotEmpty();
        assertThat(audit.withAction("redis.connected")).isEmpty();
    }
}
