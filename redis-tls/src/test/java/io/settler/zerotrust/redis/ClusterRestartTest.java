package io.settler.zerotrust.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.lettuce.core.RedisException;
import io.lettuce.core.cluster.SlotHash;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import io.lettuce.core.cluster.models.partitions.RedisClusterNode;
import io.settler.zerotrust.audit.AuditEvent;
import io.settler.zerotrust.pki.DevCertificateAuthority;
import io.settler.zerotrust.policy.Policy;
import io.settler.zerotrust.testkit.LocalRedis;
import io.settler.zerotrust.testkit.LocalRedisCluster;
import io.settler.zerotrust.testkit.RecordingAuditLog;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 16 item 7: a restarted cluster node keeps its users (each node loads the rendered ACL
 * file at start), so clients reconnect by themselves; and a login the restarted node refuses is
 * audited, not only logged by Lettuce.
 */
class ClusterRestartTest {

    private static final Map<String, String> PASSWORDS = new ConcurrentHashMap<>(Map.of("api", "rs-api-secret-3f1a",
            "worker", "rs-worker-secret-8d2c", "late", "rs-late-secret-61b0"));
    private static final Policy POLICY = Policy.builder("restart.test")
            .service("api", api -> api.scopes("redis:api:write"))
            .service("worker", worker -> worker.scopes("redis:worker:write"))
            .build();

    /**
     * Lettuce's reconnect delay doubles from 1 ms to 30 s: a node that was down for a second or two
     * is tried again within about 4 to 8 seconds.
     */
    private static final Duration RECONNECT = Duration.ofSeconds(20);

    private static LocalRedisCluster cluster;
    /** What the nodes should hold: the rendered users (a test below rotates a password). */
    private static volatile RedisAcl acl;

    @TempDir
    Path dir;

    private final RecordingAuditLog audit = RecordingAuditLog.logging();

    @BeforeAll
    static void startFromRenderedAcl() {
        acl = RedisAcl.builder(POLICY).forCluster()
                .password("api", PASSWORDS.get("api").toCharArray())
                .password("worker", PASSWORDS.get("worker").toCharArray())
                .build();
        cluster = LocalRedisCluster.builder(DevCertificateAuthority.create("restart.test"))
                .aclFile(acl.aclFile())
                .start();
    }

    @AfterAll
    static void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void clientKeepsWorkingAndUsersSurviveANodeRestart() throws IOException {
        KeyNamespace keys = KeyNamespace.clustered("api");
        int owner = ownerOf(keys);
        try (HardenedRedisCluster client = connectAs("api");
             StatefulRedisClusterConnection<String, String> connection = client.connect()) {
            connection.sync().set(keys.key("before"), "1");
            cluster.restart(owner);
            // The client reconnects by itself and logs in again as the rendered user.
            RedisTestSupport.await(RECONNECT, "a write to the restarted node succeeds",
                    () -> succeeds(() -> connection.sync().set(keys.key("after"), "2")));
            assertThat(connection.sync().get(keys.key("after"))).isEqualTo("2");
        }
        LocalRedis restarted = cluster.nodes().get(owner);
        RedisAcl.Drift drift = acl.drift(List.of(restarted.executeAsAdmin("ACL", "LIST").split("\n")),
                category -> Set.of(restarted.executeAsAdmin("ACL", "CAT", category).split("\n")), "testkit-admin",
                "operator");
        assertThat(drift.inSync()).as("the restarted node's users: %s", drift).isTrue();
        assertThat(audit.withAction("redis.refused")).isEmpty();
    }

    @Test
    void wrongPasswordOnReconnectAfterRestartIsAudited() throws IOException {
        // A user set at run time with ACL SETUSER and no ACL SAVE: in memory only, as in the report.
        for (LocalRedis node : cluster.nodes()) {
            node.executeAsAdmin("ACL", "SETUSER", "late", "reset", "on", ">" + PASSWORDS.get("late"), "~*", "+@all");
        }
        KeyNamespace keys = KeyNamespace.clustered("late");
        int owner = ownerOf(keys);
        LocalRedis restarted = cluster.nodes().get(owner);
        try (HardenedRedisCluster client = connectAs("late");
             StatefulRedisClusterConnection<String, String> connection = client.connect()) {
            connection.sync().set(keys.key("before"), "1");
            cluster.restart(owner);
            RedisTestSupport.await(RECONNECT, "the refused login on reconnect is audited",
                    () -> !refusedLogins(restarted).isEmpty());
            assertThatThrownBy(() -> connection.sync().set(keys.key("after"), "2")).isInstanceOf(RedisException.class);
        } finally {
            cluster.nodes().forEach(node -> node.executeAsAdmin("ACL", "DELUSER", "late"));
        }
        AuditEvent refused = refusedLogins(restarted).get(0);
        assertThat(refused.fields()).containsEntry("user", "late");
        assertThat(String.valueOf(refused.fields().get("detail")))
                .contains("WRONGPASS", "ACL SAVE").doesNotContain(PASSWORDS.get("late"));
    }

    @Test
    void usersChangedAtRunTimeWithApplyAndSaveSurviveARestart() throws IOException {
        String operatorRules = "+acl|setuser +acl|save +acl|whoami +client|info +@connection "
                + String.join(" ", RedisAcl.clusterClientRules());
        PASSWORDS.put("operator", "rs-operator-secret-0d4e");
        cluster.createUser("operator", PASSWORDS.get("operator"), operatorRules);
        // A rotation: worker gets a new password, set on every node at run time.
        PASSWORDS.put("worker", "rs-worker-rotated-77aa");
        RedisAcl rotated = RedisAcl.builder(POLICY).forCluster()
                .password("api", PASSWORDS.get("api").toCharArray())
                .password("worker", PASSWORDS.get("worker").toCharArray())
                .build();
        try (HardenedRedisCluster operator = connectAs("operator");
             StatefulRedisClusterConnection<String, String> connection = operator.connect()) {
            for (RedisClusterNode node : connection.getPartitions()) {
                rotated.applyAndSave(connection.getConnection(node.getNodeId()).sync());
            }
        }
        KeyNamespace keys = KeyNamespace.clustered("worker");
        int owner = ownerOf(keys);
        cluster.restart(owner);
        LocalRedis restarted = cluster.nodes().get(owner);
        acl = rotated;
        RedisAcl.Drift drift = rotated.drift(List.of(restarted.executeAsAdmin("ACL", "LIST").split("\n")),
                category -> Set.of(restarted.executeAsAdmin("ACL", "CAT", category).split("\n")),
                "testkit-admin", "operator");
        assertThat(drift.inSync()).as("the restarted node's users: %s", drift).isTrue();
        try (HardenedRedisCluster worker = connectAs("worker");
             StatefulRedisClusterConnection<String, String> connection = worker.connect()) {
            connection.sync().set(keys.key("rotated"), "ok");
            assertThat(connection.sync().get(keys.key("rotated"))).isEqualTo("ok");
        }
        assertThat(audit.withAction("redis.refused")).isEmpty();
    }

    private List<AuditEvent> refusedLogins(LocalRedis node) {
        return audit.withAction("redis.refused").stream()
                .filter(event -> String.valueOf(event.fields().get("reason")).equals("AUTHENTICATION_FAILED"))
                .filter(event -> String.valueOf(event.fields().get("server")).endsWith(":" + node.tlsPort()))
                .toList();
    }

    /** The node serving every key of {@code keys} (one slot): each node has a third of the slots. */
    private static int ownerOf(KeyNamespace keys) {
        return SlotHash.getSlot(keys.key("x")) * 3 / LocalRedisCluster.SLOTS;
    }

    private static boolean succeeds(Runnable command) {
        try {
            command.run();
            return true;
        } catch (RedisException e) {
            return false;
        }
    }

    private HardenedRedisCluster connectAs(String user) throws IOException {
        Path file = Files.writeString(dir.resolve(user + ".password"), PASSWORDS.get(user));
        return RedisTestSupport.clusterBuilder(cluster, user, file, audit).buildCluster();
    }
}
