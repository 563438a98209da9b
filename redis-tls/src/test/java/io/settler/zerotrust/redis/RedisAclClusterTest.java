package io.settler.zerotrust.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.cluster.SlotHash;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import io.lettuce.core.cluster.api.sync.RedisAdvancedClusterCommands;
import io.lettuce.core.cluster.models.partitions.RedisClusterNode;
import io.settler.zerotrust.pki.DevCertificateAuthority;
import io.settler.zerotrust.policy.Policy;
import io.settler.zerotrust.testkit.LocalRedis;
import io.settler.zerotrust.testkit.LocalRedisCluster;
import io.settler.zerotrust.testkit.RecordingAuditLog;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The ACL rendered with {@link RedisAcl.Builder#forCluster()}, loaded on every node of the
 * testkit's real three-master TLS Redis Cluster: its users work as {@link HardenedRedisCluster}
 * clients, Redis refuses what the policy does not grant, and the drift check sees every node.
 */
class RedisAclClusterTest {

    private static final Map<String, String> PASSWORDS = Map.of("api", "cl-acl-api-secret",
            "billing", "cl-acl-billing-secret", "worker", "cl-acl-worker-secret", "operator", "cl-acl-operator-secret");
    private static final Policy POLICY = Policy.builder("cluster-acl.test")
            .service("api", api -> api.scopes("queue:jobs:publish", "redis:api:write"))
            .service("billing", billing -> billing.scopes("queue:jobs:publish"))
            .service("worker", worker -> worker.scopes("queue:jobs:consume", "redis:worker:write"))
            .build();

    private static LocalRedisCluster cluster;
    private static RedisAcl acl;

    @TempDir
    Path dir;

    private final RecordingAuditLog audit = RecordingAuditLog.logging();

    @BeforeAll
    static void startClusterWithRenderedAcl() {
        cluster = LocalRedisCluster.builder(DevCertificateAuthority.create("cluster-acl.test")).start();
        RedisAcl.Builder builder = RedisAcl.builder(POLICY).forCluster();
        PASSWORDS.forEach((service, password) -> {
            if (!service.equals("operator")) {
                builder.password(service, password.toCharArray());
            }
        });
        acl = builder.build();
        for (String user : acl.users()) {
            load(user, acl);
        }
        // An operator account outside the policy (written by hand, so it takes the cluster rules too).
        cluster.createUser("operator", PASSWORDS.get("operator"), "+acl|list +acl|cat +acl|whoami +client|info"
                + " +@connection " + String.join(" ", RedisAcl.clusterClientRules()));
    }

    @AfterAll
    static void stopCluster() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @BeforeEach
    void forgetEarlierDenials() {
        cluster.nodes().forEach(node -> node.executeAsAdmin("ACL", "LOG", "RESET"));
    }

    @Test
    void renderedUserConnectsToEveryNodeOverTls13AndCausesNoAclDenials() {
        try (HardenedRedisCluster client = connectAs("api");
             StatefulRedisClusterConnection<String, String> connection = client.connect()) {
            KeyNamespace keys = KeyNamespace.clustered("api");
            for (int i = 0; i < 10; i++) {
                connection.sync().set(keys.key("session", Integer.toString(i)), "v" + i);
            }
            assertThat(connection.sync().get(keys.key("session", "7"))).isEqualTo("v7");
            assertThat(connection.sync().del(keys.key("session", "1"), keys.key("session", "2"))) // one slot
                    .isEqualTo(2L);
            client.client().refreshPartitions(); // a topology refresh: CLUSTER NODES, INFO, CLIENT SETNAME
            assertThat(connection.getPartitions().size()).isEqualTo(3);
        }
        assertThat(audit.withAction("redis.connected")).hasSize(3).allSatisfy(event -> assertThat(event.fields())
                .containsEntry("protocol", "TLSv1.3").containsEntry("user", "api"));
        // Everything a well-behaved client sends was granted: no node logged a denial.
        cluster.nodes().forEach(node -> assertThat(aclLog(node)).as("ACL LOG of " + node).isEmpty());
    }

    @Test
    void forbiddenKeysAndCommandsAreRefusedByRedis() {
        try (HardenedRedisCluster client = connectAs("api");
             StatefulRedisClusterConnection<String, String> connection = client.connect()) {
            RedisAdvancedClusterCommands<String, String> api = connection.sync();
            assertNoPermission(() -> api.set(KeyNamespace.of("api").key("x"), "standalone layout")); // api:x
            assertNoPermission(() -> api.set(KeyNamespace.clustered("worker").key("x"), "another service"));
            assertNoPermission(() -> api.xadd(RedisAcl.streamKey("jobs", "billing"), Map.of("job", "forged")));
            assertNoPermission(() -> api.xrange(RedisAcl.streamKey("jobs", "api"),
                    io.lettuce.core.Range.create("-", "+")));
            assertNoPermission(() -> api.clusterReset(true));
            assertThat(api.xadd(RedisAcl.streamKey("jobs", "api"), Map.of("job", "1"))).isNotBlank();
        }
        assertThat(cluster.nodes().stream().map(RedisAclClusterTest::aclLog).toList())
                .anySatisfy(log -> assertThat(log).contains("queue:{jobs}:billing"))
                .anySatisfy(log -> assertThat(log).contains("cluster|reset"));
    }

    @Test
    void userRenderedWithoutForClusterCannotLearnTheTopology() {
        RedisAcl standalone = RedisAcl.builder(POLICY).password("api", PASSWORDS.get("api").toCharArray())
                .password("billing", PASSWORDS.get("billing").toCharArray())
                .password("worker", PASSWORDS.get("worker").toCharArray()).build();
        load("billing", standalone);
        try (HardenedRedisCluster client = connectAs("billing")) {
            assertThatThrownBy(client::connect).isInstanceOfSatisfying(RedisTlsException.class, e -> {
                assertThat(e.reason()).isEqualTo(RedisTlsException.Reason.CONNECTION_FAILED);
                assertThat(e.getMessage()).contains("NOPERM", "forCluster()").doesNotContain(PASSWORDS.get("billing"));
            });
            assertThat(cluster.nodes().stream().map(RedisAclClusterTest::aclLog).toList())
                    .anySatisfy(log -> assertThat(log).contains("cluster|nodes"));
            RedisAcl.Drift drift = drift(cluster.nodes().get(1));
            assertThat(drift.changedUsers()).containsOnlyKeys("billing");
            assertThat(drift.changedUsers().get("billing")).contains("+cluster|nodes");
        } finally {
            load("billing", acl);
        }
    }

    @Test
    void replayGuardOfARenderedUserKeepsItsRecordsInItsNamespaceSlot() {
        try (HardenedRedisCluster client = connectAs("worker");
             StatefulRedisClusterConnection<String, String> connection = client.connect()) {
            KeyNamespace namespace = KeyNamespace.clustered("worker");
            RedisReplayGuard guard = RedisReplayGuard.builder(connection.sync(), namespace).auditLog(audit).build();
            Instant expiry = Instant.now().plus(Duration.ofMinutes(5));
            Set<Integer> slots = new HashSet<>();
            for (String issuer : List.of("spiffe://t/api", "spiffe://t/billing")) {
                for (int i = 0; i < 5; i++) {
                    assertThat(guard.firstUse(issuer, "jti-" + i, expiry)).isTrue();
                    assertThat(guard.firstUse(issuer, "jti-" + i, expiry)).isFalse();
                    String key = guard.key(issuer, "jti-" + i);
                    assertThat(key).startsWith("{worker}:replay:");
                    assertThat(connection.sync().pttl(key)).isPositive();
                    slots.add(SlotHash.getSlot(key));
                }
            }
            // By design every record sits in the namespace's one slot (on one node), whatever the issuer or jti.
            assertThat(slots).containsExactly(SlotHash.getSlot("{worker}"));
            // A namespace outside the user's ACL is refused by Redis, not read as "first use".
            RedisReplayGuard foreign = RedisReplayGuard.builder(connection.sync(), KeyNamespace.clustered("api"))
                    .build();
            assertNoPermission(() -> foreign.firstUse("spiffe://t/api", "jti-x", expiry));
        }
        assertThat(audit.withAction("token.replay_refused")).hasSize(10);
    }

    @Test
    void driftCheckIsInSyncOnEveryNode() {
        for (LocalRedis node : cluster.nodes()) {
            assertThat(drift(node).inSync()).as("drift of " + node).isTrue();
        }
        // The same through a hardened connection to each node, as an operator would run it.
        try (HardenedRedisCluster client = connectAs("operator");
             StatefulRedisClusterConnection<String, String> connection = client.connect()) {
            assertThat(connection.getPartitions().size()).isEqualTo(3);
            for (RedisClusterNode node : connection.getPartitions()) {
                assertThat(acl.drift(connection.getConnection(node.getNodeId()).sync(), "testkit-admin", "operator")
                        .inSync()).as("drift of " + node.getUri()).isTrue();
            }
        }
    }

    @Test
    void keysOfAMigratingSlotFollowAskAndMovedRedirects() {
        int slot = SlotHash.getSlot("{api}");
        LocalRedis source = cluster.nodes().stream()
                .filter(node -> owner(node, slot).equals(node.executeAsAdmin("CLUSTER", "MYID")))
                .findFirst().orElseThrow();
        LocalRedis target = cluster.nodes().stream().filter(node -> node != source).findFirst().orElseThrow();
        String sourceId = source.executeAsAdmin("CLUSTER", "MYID");
        String targetId = target.executeAsAdmin("CLUSTER", "MYID");
        String key = KeyNamespace.clustered("api").key("moving");
        try (HardenedRedisCluster client = connectAs("api");
             StatefulRedisClusterConnection<String, String> connection = client.connect()) {
            target.executeAsAdmin("CLUSTER", "SETSLOT", Integer.toString(slot), "IMPORTING", sourceId);
            source.executeAsAdmin("CLUSTER", "SETSLOT", Integer.toString(slot), "MIGRATING", targetId);
            // The source does not have the key: it answers ASK, the client sends ASKING + SET to the target.
            assertThat(connection.sync().set(key, "on the target")).isEqualTo("OK");
            assertThat(connection.sync().get(key)).isEqualTo("on the target");
            // The migration ends: the slot belongs to the target; the client follows MOVED.
            for (LocalRedis node : List.of(target, source)) {
                node.executeAsAdmin("CLUSTER", "SETSLOT", Integer.toString(slot), "NODE", targetId);
            }
            awaitOwnerEverywhere(slot, targetId);
            assertThat(connection.sync().get(key)).isEqualTo("on the target");
        }
        cluster.nodes().forEach(node -> assertThat(aclLog(node)).as("ACL LOG of " + node).isEmpty());
    }

    /** The ID of the node that owns {@code slot} in {@code node}'s view ({@code CLUSTER NODES}). */
    private static String owner(LocalRedis node, int slot) {
        for (String line : node.executeAsAdmin("CLUSTER", "NODES").split("\n")) {
            String[] fields = line.trim().split(" ");
            for (int i = 8; i < fields.length; i++) {
                if (fields[i].startsWith("[")) {
                    continue; // an importing/migrating marker, not ownership
                }
                String[] range = fields[i].split("-");
                int first = Integer.parseInt(range[0]);
                int last = Integer.parseInt(range[range.length - 1]);
                if (first <= slot && slot <= last) {
                    return fields[0];
                }
            }
        }
        return "";
    }

    /** Waits (up to 10 s) until every node agrees that {@code nodeId} owns {@code slot}. */
    private static void awaitOwnerEverywhere(int slot, String nodeId) {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!cluster.nodes().stream().allMatch(node -> owner(node, slot).equals(nodeId))) {
            assertThat(System.nanoTime()).as("slot " + slot + " owned by " + nodeId + " on every node")
                    .isLessThan(deadline);
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted", e);
            }
        }
    }

    private static RedisAcl.Drift drift(LocalRedis node) {
        List<String> lines = List.of(node.executeAsAdmin("ACL", "LIST").split("\n"));
        return acl.drift(lines, category -> Set.of(node.executeAsAdmin("ACL", "CAT", category).split("\n")),
                "testkit-admin", "operator");
    }

    /** The denials a node logged, as text (empty when none). */
    private static String aclLog(LocalRedis node) {
        return node.executeAsAdmin("ACL", "LOG");
    }

    /** Sets {@code user} on every node to its rules in {@code rendered} (ACLs are per node). */
    private static void load(String user, RedisAcl rendered) {
        List<String> command = new ArrayList<>(List.of("ACL", "SETUSER", user, "reset"));
        command.addAll(rendered.rules(user));
        cluster.nodes().forEach(node -> node.executeAsAdmin(command.toArray(String[]::new)));
    }

    private HardenedRedisCluster connectAs(String user) {
        try {
            Path file = Files.createTempFile(dir, user, ".password");
            Files.writeString(file, PASSWORDS.get(user));
            return RedisTestSupport.clusterBuilder(cluster, user, file, audit).buildCluster();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static void assertNoPermission(Runnable command) {
        assertThatThrownBy(command::run).isInstanceOf(RedisCommandExecutionException.class)
                .hasMessageStartingWith("NOPERM");
    }
}
