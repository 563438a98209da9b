package io.settler.zerotrust.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.lettuce.core.Consumer;
import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.XReadArgs;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.settler.zerotrust.pki.DevCertificateAuthority;
import io.settler.zerotrust.policy.Policy;
import io.settler.zerotrust.testkit.LocalRedis;
import io.settler.zerotrust.testkit.RecordingAuditLog;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The ACL rendered from a policy, loaded into a real TLS Redis of its own (so the drift check sees
 * no other test's users): Redis itself refuses what the policy does not grant.
 */
class RedisAclTest {

    private static final Map<String, String> PASSWORDS = Map.of(
            "api", "acl-api-secret", "billing", "acl-billing-secret", "worker", "acl-worker-secret",
            "operator", "acl-operator-secret");
    private static final Policy POLICY = Policy.builder("acl.test")
            .service("api", api -> api.scopes("queue:jobs:publish", "redis:api:write"))
            .service("billing", billing -> billing.scopes("queue:jobs:publish"))
            .service("worker", worker -> worker.scopes("queue:jobs:consume", "redis:cache:read"))
            .service("gateway", gateway -> gateway.scopes("http:proxy"))
            .build();

    private static LocalRedis redis;
    private static RedisAcl acl;

    @TempDir
    Path dir;

    private final RecordingAuditLog audit = RecordingAuditLog.logging();

    @BeforeAll
    static void startServerWithRenderedAcl() {
        redis = LocalRedis.builder(DevCertificateAuthority.create("acl.test")).start();
        RedisAcl.Builder builder = RedisAcl.builder(POLICY);
        PASSWORDS.forEach((service, password) -> {
            if (!service.equals("operator")) {
                builder.password(service, password.toCharArray());
            }
        });
        acl = builder.build();
        for (String user : acl.users()) {
            List<String> command = new ArrayList<>(List.of("ACL", "SETUSER", user, "reset"));
            command.addAll(acl.rules(user));
            redis.executeAsAdmin(command.toArray(String[]::new));
        }
        // An operator account outside the policy, allowed to read the ACL for the drift check.
        redis.createUser("operator", PASSWORDS.get("operator"),
                "+acl|list +acl|cat +acl|whoami +client|info +@connection");
    }

    @AfterAll
    static void stopServer() {
        redis.close();
    }

    @Test
    void rendersOneUserPerServiceThatUsesRedis() {
        String file = acl.aclFile();
        assertThat(acl.users()).containsExactly("default", "api", "billing", "worker");
        assertThat(file).contains("user default off ~* &* +@all\n")
                .contains("~queue:{jobs}:api ").contains("%R~cache:* ").doesNotContain("gateway")
                .doesNotContain(PASSWORDS.get("api"));
        assertThat(acl.rules("billing")).contains("~queue:{jobs}:billing", "+xadd").doesNotContain("+xreadgroup");
        assertThat(acl.rules("worker")).contains("+xreadgroup", "+xack", "+xautoclaim", "+xpending",
                "+xinfo|stream", "+xinfo|groups", "+xtrim", "(~queue:{jobs}:%dead-letter resetchannels -@all +xadd)")
                .doesNotContain("+xadd");
        assertThat(RedisAcl.deadLetterKey("jobs")).isEqualTo("queue:{jobs}:%dead-letter")
                .isNotEqualTo(RedisAcl.streamKey("jobs", "%dead-letter"));
    }

    @Test
    void rendersNoClusterCommandsUnlessAskedFor() {
        assertThat(acl.forCluster()).isFalse();
        assertThat(acl.aclFile()).doesNotContain("cluster|", "+info", "+asking", "{api}", "{cache}");
    }

    @Test
    void rendersClusterUsersWithTopologyCommandsAndHashTaggedNamespaces() {
        RedisAcl.Builder builder = RedisAcl.builder(POLICY).forCluster();
        PASSWORDS.forEach((service, password) -> {
            if (!service.equals("operator")) {
                builder.password(service, password.toCharArray());
            }
        });
        RedisAcl cluster = builder.build();
        assertThat(cluster.forCluster()).isTrue();
        assertThat(cluster.toString()).contains("cluster");
        assertThat(cluster.users()).isEqualTo(acl.users());
        assertThat(RedisAcl.clusterClientRules())
                .containsExactly("+cluster|nodes", "+cluster|myid", "+client|setname", "+info", "+asking");
        for (String user : List.of("api", "billing", "worker")) {
            assertThat(cluster.rules(user)).as(user).containsAll(RedisAcl.clusterClientRules())
                    .doesNotContain("+cluster|slots", "+cluster|shards", "+command", "+client|list", "+readonly");
        }
        assertThat(cluster.rules("default")).isEqualTo(acl.rules("default"));
        // Namespaces: the keys of KeyNamespace.clustered, not KeyNamespace.of.
        assertThat(cluster.rules("api")).contains(KeyNamespace.clustered("api").aclPattern(), "+set")
                .doesNotContain("~api:*");
        assertThat(cluster.rules("worker")).contains("%R~{cache}:*").doesNotContain("%R~cache:*");
        // Queue keys are the same in both: already one hash slot per queue.
        assertThat(cluster.rules("billing")).contains("~queue:{jobs}:billing", "+xadd");
        assertThat(cluster.rules("worker")).contains("~queue:{jobs}:*",
                "(~queue:{jobs}:%dead-letter resetchannels -@all +xadd)");
        // The rest of each user is exactly the standalone rendering.
        for (String user : List.of("api", "billing", "worker")) {
            List<String> rest = new ArrayList<>(cluster.rules(user));
            rest.removeAll(RedisAcl.clusterClientRules());
            List<String> standalone = acl.rules(user).stream()
                    .map(rule -> rule.replace("~api:*", "~{api}:*").replace("~cache:*", "~{cache}:*")).toList();
            assertThat(rest).as(user).isEqualTo(standalone);
        }
    }

    @Test
    void publisherMayAddOnlyToItsOwnStream() throws Exception {
        try (HardenedRedis client = connectAs("api"); StatefulRedisConnection<String, String> api = client.connect()) {
            assertThat(api.sync().xadd(RedisAcl.streamKey("jobs", "api"), Map.of("job", "1"))).isNotBlank();
            assertNoPermission(() -> api.sync().xadd(RedisAcl.streamKey("jobs", "billing"), Map.of("job", "forged")));
            assertNoPermission(() -> api.sync().flushall());
        }
    }

    @Test
    @SuppressWarnings("unchecked") // Lettuce's generic varargs of stream offsets
    void publisherTryingToReadTheQueueIsRefusedByRedis() throws Exception {
        String stream = RedisAcl.streamKey("jobs", "billing");
        redis.executeAsAdmin("XGROUP", "CREATE", stream, "workers-p", "0", "MKSTREAM");
        try (HardenedRedis client = connectAs("billing");
             StatefulRedisConnection<String, String> billing = client.connect()) {
            assertNoPermission(() -> billing.sync().xreadgroup(Consumer.from("workers-p", "billing"),
                    XReadArgs.StreamOffset.lastConsumed(stream)));
            assertNoPermission(() -> billing.sync().xrange(stream, io.lettuce.core.Range.create("-", "+")));
        }
    }

    @Test
    @SuppressWarnings("unchecked") // Lettuce's generic varargs of stream offsets
    void workerTryingToPublishIsRefusedByRedis() throws Exception {
        String stream = RedisAcl.streamKey("jobs", "api");
        redis.executeAsAdmin("XGROUP", "CREATE", stream, "workers-w", "0", "MKSTREAM");
        redis.executeAsAdmin("XADD", stream, "*", "job", "for-worker");
        try (HardenedRedis client = connectAs("worker");
             StatefulRedisConnection<String, String> worker = client.connect()) {
            RedisCommands<String, String> commands = worker.sync();
            var messages =
                    commands.xreadgroup(Consumer.from("workers-w", "w1"), XReadArgs.StreamOffset.lastConsumed(stream));
            assertThat(messages).isNotEmpty();
            assertThat(commands.xack(stream, "workers-w", messages.get(0).getId())).isEqualTo(1L);
            assertNoPermission(() -> commands.xadd(stream, Map.of("job", "forged")));
            assertNoPermission(() -> commands.xadd("queue:{jobs}:dead-letter", Map.of("job", "forged")));
            assertThat(commands.xadd(RedisAcl.deadLetterKey("jobs"), Map.of("reason", "FORGED"))).isNotBlank();
            assertThat(commands.xpending(stream, "workers-w").getCount()).isZero();
            assertNoPermission(() -> commands.set("cache:x", "y"));
            assertThat(commands.get("cache:x")).isNull();
        }
    }

    @Test
    void driftCheckFindsChangedMissingAndUnexpectedUsers() {
        try (HardenedRedis client = connectAs("operator");
             StatefulRedisConnection<String, String> operator = client.connect()) {
            assertThat(acl.drift(operator.sync(), "testkit-admin", "operator"))
                    .isEqualTo(new RedisAcl.Drift(List.of(), List.of(), Map.of()));
            assertThat(drift().inSync()).isTrue();

            redis.executeAsAdmin("ACL", "SETUSER", "worker", "+xadd");
            redis.executeAsAdmin("ACL", "SETUSER", "intruder", "on", ">intruder-secret", "~*", "+@all");
            redis.executeAsAdmin("ACL", "DELUSER", "billing");
            RedisAcl.Drift drift = drift();
            assertThat(drift.inSync()).isFalse();
            assertThat(drift.missingUsers()).containsExactly("billing");
            assertThat(drift.unexpectedUsers()).containsExactly("intruder");
            assertThat(drift.changedUsers()).containsOnlyKeys("worker");
            assertThat(drift.changedUsers().get("worker")).contains("+xadd");
        } finally {
            redis.executeAsAdmin("ACL", "DELUSER", "intruder");
            restore("worker");
            restore("billing");
        }
    }

    @Test
    void refusesServiceThatUsesRedisWithoutPassword() {
        assertThatThrownBy(() -> RedisAcl.builder(POLICY).password("api", "x".toCharArray()).build())
                .isInstanceOfSatisfying(RedisTlsException.class, e -> {
                    assertThat(e.reason()).isEqualTo(RedisTlsException.Reason.PASSWORD_MISSING);
                    assertThat(e.getMessage()).contains("billing", "worker");
                });
    }

    @Test
    void theGroupSetupUserMayCreateGroupsOnThePublishersStreamsAndNothingElse() {
        RedisAcl withSetup = RedisAcl.builder(POLICY).password("api", "a".toCharArray())
                .password("billing", "b".toCharArray()).password("worker", "w".toCharArray())
                .groupSetupUser("queue-setup", "s".toCharArray()).build();
        assertThat(withSetup.users()).containsExactly("default", "api", "billing", "worker", "queue-setup");
        assertThat(withSetup.rules("queue-setup")).containsSubsequence("on", "~queue:{jobs}:api",
                "~queue:{jobs}:billing", "resetchannels", "-@all", "+xgroup|create")
                .noneMatch(rule -> rule.startsWith("~") && rule.endsWith("*"))
                .doesNotContain("+xadd", "+xreadgroup", "+xgroup", "+@all");
        assertThatThrownBy(() -> RedisAcl.builder(POLICY).groupSetupUser("api", "s".toCharArray()))
                .isInstanceOf(RedisTlsException.class).hasMessageContaining("also a service of the policy");
        Policy noPublisher = Policy.builder("acl.test").service("worker", w -> w.scopes("queue:jobs:consume")).build();
        assertThatThrownBy(() -> RedisAcl.builder(noPublisher).password("worker", "w".toCharArray())
                .groupSetupUser("queue-setup", "s".toCharArray()).build())
                .isInstanceOf(RedisTlsException.class).hasMessageContaining("no consumer group to create");
    }

    @Test
    void tlsDirectivesMatchATlsOnlyServer() {
        String directives = RedisAcl.tlsDirectives(6380, Path.of("tls/server.crt"), Path.of("tls/server.key"),
                Path.of("tls/ca.crt"), Path.of("users.acl"));
        assertThat(directives).contains("port 0\n", "tls-port 6380\n", "tls-auth-clients yes\n",
                "tls-protocols \"TLSv1.3\"\n", "tls-replication yes\n", "tls-cluster yes\n");
        // The same settings on the live TLS-only server.
        assertThat(redis.executeAsAdmin("CONFIG", "GET", "port")).isEqualTo("port\n0");
        assertThat(redis.executeAsAdmin("CONFIG", "GET", "tls-auth-clients")).isEqualTo("tls-auth-clients\nyes");
        assertThat(redis.executeAsAdmin("CONFIG", "GET", "tls-protocols")).isEqualTo("tls-protocols\nTLSv1.3");
    }

    private RedisAcl.Drift drift() {
        // ACL LIST through the testkit's administrative user.
        List<String> lines = List.of(redis.executeAsAdmin("ACL", "LIST").split("\n"));
        return acl.drift(lines, category -> java.util.Set.of(redis.executeAsAdmin("ACL", "CAT", category).split("\n")),
                "testkit-admin", "operator");
    }

    private static void restore(String user) {
        List<String> command = new ArrayList<>(List.of("ACL", "SETUSER", user, "reset"));
        command.addAll(acl.rules(user));
        redis.executeAsAdmin(command.toArray(String[]::new));
    }

    private HardenedRedis connectAs(String service) {
        try {
            Path file = Files.createTempFile(dir, service, ".password");
            Files.writeString(file, PASSWORDS.get(service));
            return RedisTestSupport.builder(redis, service, file, audit).build();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static void assertNoPermission(Runnable command) {
        assertThatThrownBy(command::run).isInstanceOf(RedisCommandExecutionException.class)
                .hasMessageStartingWith("NOPERM");
    }
}
