package io.settler.zerotrust.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.lettuce.core.cluster.SlotHash;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import io.settler.zerotrust.credentials.CredentialSource;
import io.settler.zerotrust.credentials.TlsIdentity;
import io.settler.zerotrust.credentials.TrustBundle;
import io.settler.zerotrust.pki.DevCertificateAuthority;
import io.settler.zerotrust.pki.IssuedCertificate;
import io.settler.zerotrust.testkit.LocalRedisCluster;
import io.settler.zerotrust.testkit.RecordingAuditLog;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The hardened cluster client against the testkit's real three-node TLS Redis Cluster. */
class HardenedRedisClusterTest {

    private static final String USER = "cl_api";
    private static final String PASSWORD = "cl-api-secret-91b2";
    /** The proof commands plus what Lettuce's cluster client sends by itself. */
    private static final String RULES = "~cl:* ~{cl}:* " + RedisTestSupport.RULES + " "
            + String.join(" ", RedisAcl.clusterClientRules());

    private static LocalRedisCluster cluster;

    @TempDir
    Path dir;

    private final RecordingAuditLog audit = RecordingAuditLog.logging();

    @BeforeAll
    static void start() {
        cluster = LocalRedisCluster.builder(DevCertificateAuthority.create("cluster.test"))
                .user(USER, PASSWORD, RULES)
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
    void setsAndGetsKeysOnEverySlotOwner() throws IOException {
        try (HardenedRedisCluster client = builder().buildCluster();
             StatefulRedisClusterConnection<String, String> connection = client.connect()) {
            Set<Integer> slots = new HashSet<>();
            for (int i = 0; i < 30; i++) {
                String key = "cl:" + i;
                connection.sync().set(key, "value-" + i);
                slots.add(SlotHash.getSlot(key) * 3 / LocalRedisCluster.SLOTS); // which third: which node
            }
            for (int i = 0; i < 30; i++) {
                assertThat(connection.sync().get("cl:" + i)).isEqualTo("value-" + i);
            }
            assertThat(slots).as("keys on all three nodes").hasSize(3);
            assertThat(connection.getPartitions().size()).isEqualTo(3);
        }
        assertThat(audit.withAction("redis.connected").get(0).fields())
                .containsEntry("protocol", "TLSv1.3").containsEntry("user", USER);
        assertThat(audit.withAction("redis.cluster.posture")).hasSize(1);
        assertThat(audit.withAction("redis.tls.handshake")).hasSizeGreaterThanOrEqualTo(3);
    }

    @Test
    void allowTls12IsAWarningAndEveryNodeStillGetsTls13() throws IOException {
        try (HardenedRedisCluster client = builder().allowTls12().buildCluster();
             StatefulRedisClusterConnection<String, String> connection = client.connect()) {
            connection.sync().set("cl:tls12", "allowed");
            assertThat(connection.sync().get("cl:tls12")).isEqualTo("allowed");
        }
        assertThat(audit.single(RedisAudit.CLUSTER_POSTURE_WEAKENED).fields().get("protocols")).contains("TLSv1.2");
        assertThat(audit.withAction(RedisAudit.CLUSTER_POSTURE)).isEmpty();
        assertThat(audit.withAction(RedisAudit.CONNECTED)).hasSizeGreaterThanOrEqualTo(3)
                .allSatisfy(connected -> assertThat(connected.fields()).containsEntry("protocol", "TLSv1.3"));
        assertThat(audit.withAction(RedisAudit.TLS_HANDSHAKE))
                .allSatisfy(handshake -> assertThat(handshake.fields()).containsEntry("protocol", "TLSv1.3"));
    }

    @Test
    void refusesPlaintextRedisUri() throws IOException {
        HardenedRedis.Builder builder = builder().uri("redis://localhost:" + cluster.nodes().get(0).tlsPort());
        assertThatThrownBy(builder::buildCluster)
                .isInstanceOfSatisfying(RedisTlsException.class,
                        e -> assertThat(e.reason()).isEqualTo(RedisTlsException.Reason.PLAINTEXT_SCHEME));
        assertThat(audit.withAction("redis.refused")).hasSize(1);
    }

    @Test
    void refusesClusterWithCertificateFromWrongCa() throws IOException {
        DevCertificateAuthority other = DevCertificateAuthority.create("other.test");
        IssuedCertificate mine = cluster.clientCertificate(USER);
        CredentialSource trustsOtherCa = CredentialSource.fixed(TlsIdentity.of(mine.privateKey(), mine.chain()),
                TrustBundle.of(List.of(other.rootCertificate())));
        try (HardenedRedisCluster client = builder().credentials(trustsOtherCa).buildCluster()) {
            assertThatThrownBy(client::connect)
                    .isInstanceOfSatisfying(RedisTlsException.class, e -> assertThat(e.reason()).isIn(
                            RedisTlsException.Reason.HANDSHAKE_FAILED, RedisTlsException.Reason.CONNECTION_FAILED));
        }
        assertThat(audit.withAction("redis.refused")).isNotEmpty();
    }

    @Test
    void replayGuardWorksOverTheCluster() throws IOException {
        try (HardenedRedisCluster client = builder().buildCluster();
             StatefulRedisClusterConnection<String, String> connection = client.connect()) {
            RedisReplayGuard guard = RedisReplayGuard.builder(connection.sync(), KeyNamespace.clustered("cl"))
                    .auditLog(audit).build();
            Instant expiry = Instant.now().plus(Duration.ofMinutes(5));
            for (int i = 0; i < 10; i++) {
                assertThat(guard.firstUse("spiffe://t/api", "jti-" + i, expiry)).isTrue();
                assertThat(guard.firstUse("spiffe://t/api", "jti-" + i, expiry)).isFalse();
            }
        }
        assertThat(audit.withAction("token.replay_refused")).hasSize(10);
    }
}
