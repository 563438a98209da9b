package io.settler.zerotrust.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.settler.zerotrust.pki.DevCertificateAuthority;
import io.settler.zerotrust.policy.Policy;
import io.settler.zerotrust.policy.PolicyException;
import io.settler.zerotrust.testkit.LocalRedis;
import io.settler.zerotrust.testkit.RecordingAuditLog;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every rendered file proven by starting a real {@code redis-server} from it: the ACL file exactly
 * as {@link RedisAcl#aclFile()} writes it, and the {@link RedisAcl#tlsDirectives} with paths that
 * hold spaces, a quote and a backslash. Then the attacks on the renderer: reserved names and keys.
 */
class RedisAclFileTest {

    private static final Map<String, String> PASSWORDS = Map.of(
            "api", "file-api-secret", "worker", "file-worker-secret");
    private static final Policy POLICY = Policy.builder("aclfile.test")
            .service("api", api -> api.scopes("queue:jobs:publish", "redis:api:write"))
            .service("worker", worker -> worker.scopes(
                    "queue:jobs:consume", "redis:worker:write", "redis:cache:read"))
            .build();

    @TempDir
    static Path dir;

    private static LocalRedis redis;
    private static RedisAcl acl;
    private static Path oddDirectory;

    private final RecordingAuditLog audit = RecordingAuditLog.logging();

    @BeforeAll
    static void startServerFromTheRenderedFiles() throws IOException {
        acl = withPasswords(RedisAcl.builder(POLICY)).build();
        oddDirectory = Files.createDirectories(dir.resolve("tls files \"quoted\" back\\slash"));
        redis = LocalRedis.builder(DevCertificateAuthority.create("aclfile.test"))
                .aclFile(acl.aclFile())
                .tlsDirectives((port, certificate, key, ca, aclFile) -> RedisAcl.tlsDirectives(port,
                        copy(certificate), copy(key), copy(ca), copy(aclFile)))
                .start();
    }

    @AfterAll
    static void stopServer() {
        if (redis != null) {
            redis.close();
        }
    }

    @Test
    void serverStartsFromTheRenderedAclFileWithExactlyItsUsers() {
        assertThat(acl.aclFile()).startsWith("user default off ~* &* +@all\n").doesNotContain("#  ", "\n#");
        RedisAcl.Drift drift = acl.drift(List.of(redis.executeAsAdmin("ACL", "LIST").split("\n")),
                category -> Set.of(redis.executeAsAdmin("ACL", "CAT", category).split("\n")), "testkit-admin");
        assertThat(drift.inSync()).as(drift.toString()).isTrue();
    }

    @Test
    void serverStartsFromTheRenderedTlsDirectivesWithOddPaths() {
        assertThat(redis.executeAsAdmin("CONFIG", "GET", "port")).isEqualTo("port\n0");
        assertThat(redis.executeAsAdmin("CONFIG", "GET", "tls-port")).isEqualTo("tls-port\n" + redis.tlsPort());
        assertThat(redis.executeAsAdmin("CONFIG", "GET", "tls-auth-clients")).isEqualTo("tls-auth-clients\nyes");
        assertThat(redis.executeAsAdmin("CONFIG", "GET", "tls-protocols")).isEqualTo("tls-protocols\nTLSv1.3");
        assertThat(redis.executeAsAdmin("CONFIG", "GET", "tls-replication")).isEqualTo("tls-replication\nyes");
        // The quoted paths reached Redis intact: spaces, the quote and the backslash included.
        assertThat(redis.executeAsAdmin("CONFIG", "GET", "tls-cert-file"))
                .isEqualTo("tls-cert-file\n" + oddDirectory.resolve("server.crt").toAbsolutePath());
        assertThat(redis.executeAsAdmin("CONFIG", "GET", "aclfile"))
                .isEqualTo("aclfile\n" + oddDirectory.resolve("users.acl").toAbsolutePath());
    }

    @Test
    void renderedUsersWorkAndStayInTheirKeys() throws IOException {
        try (HardenedRedis client = connectAs("api");
             StatefulRedisConnection<String, String> connection = client.connect()) {
            RedisCommands<String, String> api = connection.sync();
            assertThat(api.xadd(RedisAcl.streamKey("jobs", "api"), Map.of("job", "1"))).isNotBlank();
            assertThat(api.set(KeyNamespace.of("api").key("session", "1"), "x")).isEqualTo("OK");
            assertNoPermission(() -> api.del(RedisAcl.deadLetterKey("jobs")));
            assertNoPermission(() -> api.set("cache:x", "y"));
            assertNoPermission(() -> api.publish("any", "message"));
        }
    }

    @Test
    void defaultUserIsOffAndComesFromTheRendererOnly() {
        String defaultUser = redis.executeAsAdmin("ACL", "GETUSER", "default");
        assertThat(defaultUser).contains("off").doesNotContain("nopass");
        assertThat(acl.aclFile().lines().filter(line -> line.startsWith("user default "))).hasSize(1);
        assertThatThrownBy(() -> withPasswords(RedisAcl.builder(POLICY)).auditLog(audit)
                .passwordHash("default", "0".repeat(64))).isInstanceOfSatisfying(RedisTlsException.class,
                        e -> assertThat(e.reason()).isEqualTo(RedisTlsException.Reason.RESERVED_NAME));
        assertRefusalAudited(RedisTlsException.Reason.RESERVED_NAME);
    }

    @Test
    void refusesServiceNamedDefaultThatWouldReplaceTheDefaultUserLine() {
        // The policy may refuse the name itself (core reserves it); the renderer refuses it regardless.
        Throwable refused = catchThrowable(() -> RedisAcl.builder(Policy.builder("aclfile.test")
                .service("default", service -> service.scopes("redis:cache:write")).build()).auditLog(audit).build());
        assertThat(refused).isInstanceOfAny(PolicyException.class, RedisTlsException.class);
        if (refused instanceof RedisTlsException e) {
            assertThat(e.reason()).isEqualTo(RedisTlsException.Reason.RESERVED_NAME);
            assertThat(e.getMessage()).contains("'default'", "rename");
            assertRefusalAudited(RedisTlsException.Reason.RESERVED_NAME);
        }
    }

    @Test
    void refusesRedisScopeWhoseKeysWouldReachTheQueueKeys() {
        for (String scope : List.of("redis:queue:write", "redis:queue:read")) {
            for (boolean cluster : new boolean[] {false, true}) {
                RedisAcl.Builder builder = RedisAcl.builder(Policy.builder("aclfile.test")
                        .service("cache", service -> service.scopes(scope)).build()).auditLog(audit);
                if (cluster) {
                    builder.forCluster(); // {queue}:* would not overlap, but the same policy renders both ways
                }
                builder.password("cache", "cache-secret".toCharArray());
                assertThatThrownBy(builder::build).as(scope).isInstanceOfSatisfying(RedisTlsException.class, e -> {
                    assertThat(e.reason()).isEqualTo(RedisTlsException.Reason.RESERVED_NAME);
                    assertThat(e.getMessage()).contains(scope, "queue:*");
                });
            }
        }
        assertThat(audit.withAction("redis.refused")).hasSize(4).allSatisfy(event -> assertThat(event.fields())
                .containsEntry("reason", "RESERVED_NAME").containsEntry("user", "cache"));
        // Namespaces that only start like it are no queue keys.
        assertThat(RedisAcl.builder(Policy.builder("aclfile.test")
                .service("api", api -> api.scopes("redis:queues:write", "redis:queue-cache:read")).build())
                .password("api", "api-secret".toCharArray()).build().rules("api"))
                .contains("~queues:*", "%R~queue-cache:*");
    }

    @Test
    void refusesWriteScopeOnAnotherServicesNamespaceWhereItsReplayRecordsLive() {
        Policy policy = Policy.builder("aclfile.test")
                .service("api", api -> api.scopes("redis:worker:write"))
                .service("worker", worker -> worker.scopes("redis:worker:write"))
                .build();
        assertThatThrownBy(() -> withPasswords(RedisAcl.builder(policy)).auditLog(audit).build())
                .isInstanceOfSatisfying(RedisTlsException.class, e -> {
                    assertThat(e.reason()).isEqualTo(RedisTlsException.Reason.RESERVED_NAME);
                    assertThat(e.getMessage()).contains("redis:worker:write", "'api'", "replay");
                });
        assertThat(audit.withAction("redis.refused")).singleElement().satisfies(event -> assertThat(event.fields())
                .containsEntry("reason", "RESERVED_NAME").containsEntry("user", "api"));
        // Reading another service's keys, and writing a namespace named after no service, stay allowed.
        RedisAcl shared = withPasswords(RedisAcl.builder(Policy.builder("aclfile.test")
                .service("api", api -> api.scopes("redis:worker:read", "redis:shared:write"))
                .service("worker", worker -> worker.scopes("redis:worker:write", "redis:shared:write"))
                .build())).build();
        assertThat(shared.rules("api")).contains("%R~worker:*", "~shared:*");
    }

    @Test
    void keyPatternsTakeNoGlobSyntaxSpacesOrLineBreaksFromNames() {
        for (String literal : List.of("a*", "a?", "a[b]", "a\\b", "a b", "a\nb", "a\rb", "\u00e9")) {
            assertThatThrownBy(() -> RedisAcl.keyPattern("", literal, true)).as(literal)
                    .isInstanceOfSatisfying(RedisTlsException.class,
                            e -> assertThat(e.reason()).isEqualTo(RedisTlsException.Reason.INVALID_KEY));
        }
        // Every key pattern rendered for a service is a plain literal, then at most one trailing '*'
        // (the default user, off, may do everything: Redis 7.0 reloads the append-only file as it).
        for (String user : acl.users().stream().filter(user -> !user.equals("default")).toList()) {
            for (String token : String.join(" ", acl.rules(user)).replace("(", "").replace(")", "").split(" ")) {
                if (token.contains("~")) {
                    String literal = token.substring(token.indexOf('~') + 1).replaceFirst("\\*$", "");
                    assertThat(literal).as(token).doesNotContainPattern("[*?\\[\\]\\\\\\s]");
                }
                assertThat(token).as("no channels").doesNotStartWith("&");
            }
        }
        // Glob syntax in a service name reaches a key only escaped.
        assertThat(RedisAcl.streamKey("jobs", "a*[b]?")).isEqualTo("queue:{jobs}:a%2A%5Bb%5D%3F");
    }

    @Test
    void tlsDirectivesRefuseAPathWithALineBreak() {
        Path injected = Path.of("/tmp/ca.crt\nenable-debug-command yes");
        assertThatThrownBy(() -> RedisAcl.tlsDirectives(6380, Path.of("server.crt"), Path.of("server.key"), injected,
                Path.of("users.acl"))).isInstanceOfSatisfying(RedisTlsException.class, e -> {
                    assertThat(e.reason()).isEqualTo(RedisTlsException.Reason.INVALID_CONFIGURATION);
                    assertThat(e.getMessage()).doesNotContain("\n").contains("\\u000a");
                });
    }

    @Test
    void clusterRenderingLoadsOnARealServerToo() {
        RedisAcl cluster = withPasswords(RedisAcl.builder(POLICY).forCluster()).build();
        try (LocalRedis server = LocalRedis.builder(redis.certificateAuthority()).aclFile(cluster.aclFile())
                .tlsDirectives(RedisAcl::tlsDirectives).start()) {
            RedisAcl.Drift drift = cluster.drift(List.of(server.executeAsAdmin("ACL", "LIST").split("\n")),
                    category -> Set.of(server.executeAsAdmin("ACL", "CAT", category).split("\n")), "testkit-admin");
            assertThat(drift.inSync()).as(drift.toString()).isTrue();
        }
    }

    private void assertRefusalAudited(RedisTlsException.Reason reason) {
        assertThat(audit.withAction("redis.refused")).singleElement()
                .satisfies(event -> assertThat(event.fields()).containsEntry("reason", reason.name()));
    }

    private static RedisAcl.Builder withPasswords(RedisAcl.Builder builder) {
        PASSWORDS.forEach((service, password) -> builder.password(service, password.toCharArray()));
        return builder;
    }

    private static Path copy(Path file) {
        try {
            return Files.copy(file, oddDirectory.resolve(file.getFileName()), StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private HardenedRedis connectAs(String service) throws IOException {
        Path file = Files.createTempFile(dir, service, ".password");
        Files.writeString(file, PASSWORDS.get(service));
        return RedisTestSupport.builder(redis, service, file, audit).build();
    }

    private static void assertNoPermission(Runnable command) {
        assertThatThrownBy(command::run).isInstanceOf(RedisCommandExecutionException.class)
                .hasMessageStartingWith("NOPERM");
    }
}
