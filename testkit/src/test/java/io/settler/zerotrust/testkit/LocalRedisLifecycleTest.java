package io.settler.zerotrust.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.settler.zerotrust.pki.DevCertificateAuthority;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** Servers of its own: restart with and without an append-only file, and clean shutdown. */
class LocalRedisLifecycleTest {

    private static final DevCertificateAuthority CA = DevCertificateAuthority.create("lifecycle.test");
    private static final String WORKER = "worker";
    private static final String PASSWORD = "worker-password";

    @Test
    void keepsDataAcrossRestartWithAppendOnly() throws IOException {
        try (LocalRedis redis = LocalRedis.builder(CA).user(WORKER, PASSWORD, "~jobs:* +@all")
                .appendOnly(true).start()) {
            redis.createUser("late", "late-password", "~late:* +@all");
            try (Resp connection = RedisClients.authenticated(redis, WORKER)) {
                assertThat(connection.call("XADD", "jobs:stream", "*", "job", "1")).isInstanceOf(String.class);
                assertThat(connection.call("XGROUP", "CREATE", "jobs:stream", "workers", "0")).isEqualTo("OK");
            }
            int port = redis.tlsPort();

            redis.restart();

            assertThat(redis.tlsPort()).isEqualTo(port);
            try (Resp connection = RedisClients.authenticated(redis, WORKER)) {
                assertThat(connection.call("XLEN", "jobs:stream")).isEqualTo(1L);
                assertThat(connection.call("XINFO", "GROUPS", "jobs:stream")).asString().contains("workers");
            }
            try (Resp connection = RedisClients.authenticated(redis, "late")) {
                assertThat(connection.call("PING")).isEqualTo("PONG");
            }
        }
    }

    @Test
    void startsFromAGivenAclFileAndTlsDirectives() throws Exception {
        String hash = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                .digest("file-password".getBytes(StandardCharsets.UTF_8)));
        String aclFile = "user default off resetchannels -@all\nuser filed on #" + hash + " ~jobs:* +set +get";
        LocalRedis.TlsDirectives directives = (port, certificate, key, ca, acl) -> String.join("\n",
                "port 0", "tls-port " + port, "tls-cert-file " + certificate, "tls-key-file " + key,
                "tls-ca-cert-file " + ca, "tls-auth-clients yes", "tls-protocols \"TLSv1.3\"", "aclfile " + acl,
                "maxclients 77");
        try (LocalRedis redis = LocalRedis.builder(CA).aclFile(aclFile).tlsDirectives(directives).start()) {
            assertThat(redis.executeAsAdmin("CONFIG", "GET", "maxclients")).isEqualTo("maxclients\n77");
            assertThat(redis.executeAsAdmin("CONFIG", "GET", "bind")).isEqualTo("bind\n127.0.0.1");
            assertThat(redis.executeAsAdmin("ACL", "LIST")).startsWith("user default off")
                    .contains("user filed on #" + hash);
            try (Resp connection = RedisClients.authenticated(redis, "filed", "file-password")) {
                assertThat(connection.call("SET", "jobs:1", "x")).isEqualTo("OK");
            }
            redis.restart(); // the port stays the one rendered
            try (Resp connection = RedisClients.authenticated(redis, "filed", "file-password")) {
                assertThat(connection.call("GET", "jobs:1")).isNull();
            }
        }
    }

    @Test
    void refusesAnAclFileThatLeavesTheDefaultUserOnOrTakesTheAdministrator() {
        assertThatThrownBy(() -> LocalRedis.builder(CA).aclFile("user filed on nopass ~* +@all"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("default user off");
        assertThatThrownBy(() -> LocalRedis.builder(CA)
                .aclFile("user default off\nuser " + LocalRedis.ADMIN_USER + " on nopass ~* +@all"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("reserved");
        assertThatThrownBy(() -> LocalRedis.builder(CA).user(WORKER, PASSWORD, "~jobs:*")
                .aclFile("user default off -@all")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void startsWithAUserGivenByItsPasswordHashOnly() throws Exception {
        String hash = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                .digest("rendered-password".getBytes(StandardCharsets.UTF_8)));
        try (LocalRedis redis = LocalRedis.builder(CA).hashedUser("rendered", "on #" + hash + " ~jobs:* +set")
                .start()) {
            assertThat(redis.users()).containsExactly("rendered");
            assertThatThrownBy(() -> redis.password("rendered")).isInstanceOf(IllegalArgumentException.class);
            try (Resp connection = RedisClients.authenticated(redis, "rendered", "rendered-password")) {
                assertThat(connection.call("SET", "jobs:1", "x")).isEqualTo("OK");
                assertThat(connection.call("GET", "jobs:1"))
                        .isInstanceOfSatisfying(Resp.Error.class, e -> assertThat(e.message()).startsWith("NOPERM"));
            }
            assertThatThrownBy(() -> RedisClients.authenticated(redis, "rendered", "guessed").close())
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("AUTH as rendered failed");
        }
    }

    @Test
    void refusesAHashedUserWhoseRulesCarryNoHash() {
        assertThatThrownBy(() -> LocalRedis.builder(CA).hashedUser("rendered", "on >plain ~* +@all"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no password hash");
    }

    @Test
    void losesDataAcrossRestartWithoutAppendOnly() throws IOException {
        try (LocalRedis redis = LocalRedis.builder(CA).user(WORKER, PASSWORD, "~jobs:* +@all").start()) {
            try (Resp connection = RedisClients.authenticated(redis, WORKER)) {
                assertThat(connection.call("SET", "jobs:1", "x")).isEqualTo("OK");
            }

            redis.restart();

            try (Resp connection = RedisClients.authenticated(redis, WORKER)) {
                assertThat(connection.call("GET", "jobs:1")).isNull();
            }
        }
    }

    @Test
    void closeStopsTheServerAndRemovesItsDirectory() throws IOException {
        LocalRedis redis = LocalRedis.builder(CA).start();
        ProcessHandle process = redis.process();
        Path directory = redis.directory();
        int port = redis.tlsPort();
        assertThat(process.isAlive()).isTrue();
        assertThat(directory).isDirectory();

        redis.close();

        assertThat(process.isAlive()).isFalse();
        assertThat(directory).doesNotExist();
        assertThatThrownBy(() -> new Socket(InetAddress.getLoopbackAddress(), port).close())
                .isInstanceOf(ConnectException.class);
        assertThatThrownBy(() -> redis.executeAsAdmin("PING")).isInstanceOf(IllegalStateException.class);
        redis.close(); // idempotent
    }

    @Test
    void sweepStopsTheServerOfAJvmThatIsGoneAndRemovesItsDirectory() throws Exception {
        try (LocalRedis redis = LocalRedis.builder(CA).start()) {
            ProcessHandle server = redis.process();
            Files.writeString(redis.directory().resolve(ServerDirectory.OWNER_FILE), deadPid() + " 0\n");

            ServerDirectory.sweepStale(ServerDirectory.DEFAULT_PARENT);

            assertThat(server.onExit().get(10, TimeUnit.SECONDS).isAlive()).isFalse();
            assertThat(redis.directory()).doesNotExist();
        }
    }

    @Test
    void sweepLeavesServersOfLiveJvmsAlone() throws IOException {
        try (LocalRedis redis = LocalRedis.builder(CA).start()) {
            ServerDirectory.sweepStale(ServerDirectory.DEFAULT_PARENT);

            assertThat(redis.process().isAlive()).isTrue();
            assertThat(redis.executeAsAdmin("PING")).isEqualTo("PONG");
        }
    }

    @Test
    void reportsTheServerLogWhenStartFailsAndCleansUp() {
        assertThatThrownBy(() -> LocalRedis.builder(CA).user(WORKER, PASSWORD, "+@nosuchcategory").start())
                .isInstanceOfSatisfying(TestkitException.class, e -> {
                    assertThat(e.reason()).isEqualTo(TestkitException.Reason.START_FAILED);
                    assertThat(e.getMessage()).contains("Redis exited").contains("nosuchcategory")
                            .doesNotContain(PASSWORD);
                    Matcher log = Pattern.compile("(/tmp/settler-testkit-redis-\\d+)/redis\\.log")
                            .matcher(e.getMessage());
                    assertThat(log.find()).isTrue();
                    assertThat(Path.of(log.group(1))).doesNotExist();
                });
    }

    /** The pid of a process that has exited. */
    private static long deadPid() throws Exception {
        Process process = new ProcessBuilder("true").start();
        process.waitFor();
        return process.pid();
    }
}
