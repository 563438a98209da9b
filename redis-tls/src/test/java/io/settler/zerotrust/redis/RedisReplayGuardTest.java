package io.settler.zerotrust.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.api.StatefulRedisConnection;
import io.settler.zerotrust.testkit.LocalRedis;
import io.settler.zerotrust.testkit.RecordingAuditLog;
import io.settler.zerotrust.testkit.TlsRedis;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The replay guard against the real TLS Redis, through the hardened client. */
@TlsRedis
class RedisReplayGuardTest {

    private static final String USER = "rg_api";
    private static final String PASSWORD = "rg-api-secret-44d1";

    @TempDir
    Path dir;

    private final RecordingAuditLog audit = RecordingAuditLog.logging();
    private HardenedRedis client;
    private StatefulRedisConnection<String, String> connection;
    private RedisReplayGuard guard;

    @BeforeAll
    static void createUser(LocalRedis redis) {
        // Only SET on its replay keys, besides the proof commands.
        redis.createUser(USER, PASSWORD, "~rg:replay:* +set +@connection +acl|whoami +client|info");
    }

    @BeforeEach
    void connect(LocalRedis redis) throws Exception {
        client = RedisTestSupport.builder(redis, USER, RedisTestSupport.passwordFile(dir, PASSWORD), audit).build();
        connection = client.connect();
        guard = RedisReplayGuard.builder(connection.sync(), KeyNamespace.of("rg")).auditLog(audit).build();
    }

    @AfterEach
    void close() {
        connection.close();
        client.close();
    }

    @Test
    void doneRecordsAnswerPerHolderInOrderAndAClaimIsTakenOnce(LocalRedis redis) throws Exception {
        asNewUser(redis, "rg_records", "~rg:done:* ~rg:claim:* +set +mget", recordsConnection -> {
            RedisReplayGuard guard = RedisReplayGuard.builder(recordsConnection.sync(), KeyNamespace.of("rg")).build();
            Instant later = Instant.now().plus(Duration.ofMinutes(5));
            guard.recordDone("7:workers:queue:{jobs}:api 1-0", later);
            guard.recordDone("7:workers:queue:{jobs}:api 3-0", Instant.now().minusSeconds(1)); // passed: not written
            assertThat(guard.done(List.of("7:workers:queue:{jobs}:api 1-0", "7:workers:queue:{jobs}:api 2-0",
                    "7:workers:queue:{jobs}:api 3-0"))).containsExactly(true, false, false);
            assertThat(guard.done(List.of())).isEmpty();
            assertThat(guard.claim("7:workers:queue:{jobs}:api 2-0", later)).isTrue();
            assertThat(guard.claim("7:workers:queue:{jobs}:api 2-0", later)).as("taken").isFalse();
        });
    }

    /**
     * A pipeline answers each check as the single call would, in one round trip; a command Redis
     * refuses (here WRONGTYPE: the key is a list) fails alone and leaves the others answered. On the
     * connection the commands are pipelined; on synchronous commands they run one by one, same answers.
     */
    @Test
    void pipelineAnswersEachCommandOnItsOwnAndACommandRedisRefusesFailsAlone(LocalRedis redis) throws Exception {
        asNewUser(redis, "rg_pipeline", "~rgp:* ~rgs:* +set +getdel +mget", pipelineConnection -> {
            assertPipelineAnswers(redis, RedisReplayGuard.builder(pipelineConnection, KeyNamespace.of("rgp"))
                    .auditLog(audit).build());
            assertPipelineAnswers(redis, RedisReplayGuard.builder(pipelineConnection.sync(), KeyNamespace.of("rgs"))
                    .auditLog(audit).build());
        });
    }

    /** Runs {@code test} on a connection of a new user with {@code rules} (and the connection checks). */
    private void asNewUser(LocalRedis redis, String user, String rules,
                           Consumer<StatefulRedisConnection<String, String>> test) throws Exception {
        String password = user + "-secret-5e2";
        redis.createUser(user, password, rules + " +@connection +acl|whoami +client|info");
        try (HardenedRedis client = RedisTestSupport.builder(redis, user, RedisTestSupport.passwordFile(dir, password),
                audit).build();
             StatefulRedisConnection<String, String> userConnection = client.connect()) {
            test.accept(userConnection);
        }
    }

    private void assertPipelineAnswers(LocalRedis redis, RedisReplayGuard guard) {
        Instant expiry = Instant.now().plus(Duration.ofMinutes(5));
        assertThat(guard.usedOnlyBy("spiffe://t/api", "jti-taken", expiry, "stream 1-0")).isTrue();
        redis.executeAsAdmin("RPUSH", guard.key("spiffe://t/api", "jti-list"), "not a record");
        int refusedBefore = audit.withAction("token.replay_refused").size();

        RedisReplayGuard.Pipeline pipeline = guard.pipeline();
        RedisReplayGuard.Reply fresh = pipeline.usedOnlyBy("spiffe://t/api", "jti-new", expiry, "stream 2-0");
        RedisReplayGuard.Reply copy = pipeline.usedOnlyBy("spiffe://t/api", "jti-taken", expiry, "stream 3-0");
        RedisReplayGuard.Reply broken = pipeline.usedOnlyBy("spiffe://t/api", "jti-list", expiry, "stream 4-0");
        RedisReplayGuard.Reply redelivery = pipeline.usedOnlyBy("spiffe://t/api", "jti-taken", expiry, "stream 1-0");
        RedisReplayGuard.Reply expired = pipeline.usedOnlyBy("spiffe://t/api", "jti-old", Instant.now().minusSeconds(1),
                "stream 5-0");
        RedisReplayGuard.Reply claimed = pipeline.claim("lease stream 2-0", expiry);
        RedisReplayGuard.Reply claimedTwice = pipeline.claim("lease stream 2-0", expiry);
        RedisReplayGuard.Reply recorded = pipeline.recordDone("stream 2-0", expiry);
        RedisReplayGuard.Reply released = pipeline.release("lease stream 2-0");
        RedisReplayGuard.Reply releasedTwice = pipeline.release("lease stream 2-0");

        assertThatThrownBy(broken::get).as("read first: the others are answered anyway")
                .isInstanceOf(RedisCommandExecutionException.class).hasMessageContaining("WRONGTYPE");
        assertThat(List.of(fresh.get(), copy.get(), redelivery.get(), expired.get(), claimed.get(), claimedTwice.get(),
                recorded.get(), released.get(), releasedTwice.get()))
                .containsExactly(true, false, true, false, true, false, true, true, false);
        assertThat(copy.get()).as("answered once, audited once").isFalse();
        assertThat(audit.withAction("token.replay_refused").subList(refusedBefore,
                audit.withAction("token.replay_refused").size())).extracting(e -> e.fields().get("reason"))
                .containsExactly("EXPIRED", "REPLAYED");
        assertThat(guard.done(List.of("stream 2-0", "stream 3-0"))).containsExactly(true, false);
        assertThat(guard.claim("lease stream 2-0", expiry)).as("released: free again").isTrue();
    }

    @Test
    void firstUseIsTrueThenAReplayIsFalse() {
        Instant expiry = Instant.now().plus(Duration.ofMinutes(5));
        assertThat(guard.firstUse("spiffe://t/api", "jti-1", expiry)).isTrue();
        assertThat(guard.firstUse("spiffe://t/api", "jti-1", expiry)).isFalse();
        assertThat(audit.withAction("token.replay_refused").get(0).fields()).containsEntry("reason", "REPLAYED");
    }

    @Test
    void copyOfATokenInAnotherHolderIsAReplayEvenAsARedelivery() {
        Instant expiry = Instant.now().plus(Duration.ofMinutes(5));
        assertThat(guard.firstUse("spiffe://t/api", "jti-h", expiry, "stream 1-0")).isTrue();
        assertThat(guard.usedOnlyBy("spiffe://t/api", "jti-h", expiry, "stream 2-0")).isFalse();
        assertThat(guard.firstUse("spiffe://t/api", "jti-h", expiry, "stream 2-0")).isFalse();
        assertThat(audit.withAction("token.replay_refused")).hasSize(2)
                .allSatisfy(e -> assertThat(e.fields()).containsEntry("reason", "REPLAYED"));
    }

    @Test
    void redeliveryOfTheSameHolderPassesButNeverAsAFirstUse() {
        Instant expiry = Instant.now().plus(Duration.ofMinutes(5));
        assertThat(guard.usedOnlyBy("spiffe://t/api", "jti-r", expiry, "stream 1-0")).as("no record yet").isTrue();
        assertThat(guard.usedOnlyBy("spiffe://t/api", "jti-r", expiry, "stream 1-0")).isTrue();
        assertThat(guard.firstUse("spiffe://t/api", "jti-r", expiry, "stream 1-0")).isFalse();
        assertThat(guard.firstUse("spiffe://t/api", "jti-r", expiry)).isFalse();
    }

    @Test
    void aHolderCannotPassForATokenRecordedWithoutOne() {
        Instant expiry = Instant.now().plus(Duration.ofMinutes(5));
        assertThat(guard.firstUse("spiffe://t/api", "jti-p", expiry)).isTrue();
        assertThat(guard.usedOnlyBy("spiffe://t/api", "jti-p", expiry, "1")).isFalse();
        assertThat(guard.usedOnlyBy("spiffe://t/api", "jti-old", Instant.now().minusSeconds(1), "x")).isFalse();
        assertThatThrownBy(() -> guard.usedOnlyBy("spiffe://t/api", "jti-p", expiry, ""))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void sameJtiFromAnotherIssuerIsIndependent() {
        Instant expiry = Instant.now().plus(Duration.ofMinutes(5));
        assertThat(guard.firstUse("spiffe://t/one", "shared-jti", expiry)).isTrue();
        assertThat(guard.firstUse("spiffe://t/two", "shared-jti", expiry)).isTrue();
    }

    @Test
    void separatorsAndBracesInIdsCannotCollide() {
        Instant expiry = Instant.now().plus(Duration.ofMinutes(5));
        assertThat(guard.firstUse("iss:a", "b", expiry)).isTrue();
        assertThat(guard.firstUse("iss", "a:b", expiry)).isTrue();
        assertThat(guard.firstUse("iss", "{a}:b", expiry)).isTrue();
        assertThat(guard.key("iss", "{a}:b")).matches("rg:replay:[0-9a-f]{64}");
    }

    @Test
    void recordExpiresWithTheToken(LocalRedis redis) throws InterruptedException {
        Instant expiry = Instant.now().plus(Duration.ofMinutes(5));
        assertThat(guard.firstUse("spiffe://t/api", "jti-ttl", expiry)).isTrue();
        assertThat(redis.executeAsAdmin("PEXPIRETIME", guard.key("spiffe://t/api", "jti-ttl")))
                .isEqualTo(Long.toString(expiry.toEpochMilli()));

        Instant soon = Instant.now().plus(Duration.ofMillis(300));
        assertThat(guard.firstUse("spiffe://t/api", "jti-short", soon)).isTrue();
        String key = guard.key("spiffe://t/api", "jti-short");
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!"0".equals(redis.executeAsAdmin("EXISTS", key)) && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertThat(redis.executeAsAdmin("EXISTS", key)).isEqualTo("0");
    }

    @Test
    void expiredTokenIsNeverAFirstUse() {
        assertThat(guard.firstUse("spiffe://t/api", "jti-old", Instant.now().minusSeconds(1))).isFalse();
        assertThat(audit.withAction("token.replay_refused").get(0).fields()).containsEntry("reason", "EXPIRED");
    }
}
