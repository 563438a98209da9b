package io.settler.zerotrust.spring;

import static org.assertj.core.api.Assertions.assertThat;

import io.settler.zerotrust.audit.AuditEvent;
import io.settler.zerotrust.audit.AuditLog;
import io.settler.zerotrust.queue.MessageHandler;
import io.settler.zerotrust.queue.QueueConsumer;
import io.settler.zerotrust.queue.QueuePublisher;
import io.settler.zerotrust.testkit.LocalRedis;
import io.settler.zerotrust.testkit.RecordingAuditLog;
import io.settler.zerotrust.testkit.TlsRedis;
import io.settler.zerotrust.token.KeySet;
import io.settler.zerotrust.token.ServiceTokens;
import io.settler.zerotrust.token.TokenAlgorithm;
import io.settler.zerotrust.token.TokenKey;
import io.settler.zerotrust.token.TokenRequest;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

/**
 * {@code zerotrust.queue.*} on the testkit's TLS Redis, in one service (api) that both publishes to and
 * consumes the queue {@code jobs}: the publisher bean's messages are handled once by the consumer bean's
 * poller, forged and unsigned entries are dead-lettered and never handled, closing the context waits for
 * the handler in progress, and every missing or refused setting stops the start naming the property.
 */
@TlsRedis
class ZeroTrustQueueTest {

    private static final String SECRET = "spring-redis-secret";
    private static final String STREAM = "queue:{jobs}:api";
    private static final String DEAD_LETTERS = "queue:{jobs}:%dead-letter";

    @TempDir
    static Path certs;

    private static LocalRedis redis;
    private static TestZone zone;
    private static final TokenKey API_KEY = TokenKey.generate(TokenAlgorithm.ES256, "api-1");

    @BeforeAll
    static void start(LocalRedis server) throws IOException {
        redis = server;
        zone = new TestZone(certs, redis.certificateAuthority());
        // The queue's streams and api's own key namespace (replay guard, records of handled messages).
        redis.createUser("api", SECRET, "~queue:{jobs}:* ~api:* +@all -@dangerous +acl|whoami +client|info");
        Files.writeString(certs.resolve("redis-password"), SECRET + "\n");
        Files.writeString(certs.resolve("queue-policy.json"), Files.readString(certs.resolve("policy.json"))
                .replace("[\"stock:read\"]", "[\"stock:read\", \"queue:jobs:publish\", \"queue:jobs:consume\"]"));
        Files.writeString(certs.resolve("api.jwks.json"), KeySet.builder().signingKey(API_KEY).build().toJwks());
        redis.executeAsAdmin("XGROUP", "CREATE", STREAM, "workers", "0", "MKSTREAM"); // the operator's step
    }

    private static ApplicationContextRunner runner(Map<String, String> changes, String... removed) {
        Map<String, String> properties = new LinkedHashMap<>();
        properties.put("zerotrust.policy", "file:" + certs.resolve("queue-policy.json"));
        properties.put("zerotrust.redis.uri", redis.uri());
        properties.put("zerotrust.redis.password-file", certs.resolve("redis-password").toString());
        properties.put("zerotrust.queue.publish", "jobs");
        properties.put("zerotrust.queue.consume.queue", "jobs");
        properties.put("zerotrust.queue.consume.group", "workers");
        properties.put("zerotrust.queue.consume.consumer", "worker-1");
        properties.put("zerotrust.queue.consume.publishers.api.jwks", "file:" + certs.resolve("api.jwks.json"));
        properties.put("zerotrust.queue.consume.poll-interval", "50ms");
        for (String key : removed) {
            properties.remove(key);
        }
        properties.putAll(changes);
        return zone.runner(properties).withConfiguration(AutoConfigurations.of(ZeroTrustRedisAutoConfiguration.class,
                        ZeroTrustQueueAutoConfiguration.class))
                .withBean(AuditLog.class, RecordingAuditLog::new)
                .withBean(TokenKey.class, () -> API_KEY);
    }

    private static ZeroTrustConfigurationException refusedStart(ApplicationContextRunner runner) {
        AtomicReference<Throwable> failure = new AtomicReference<>();
        runner.run(context -> failure.set(context.getStartupFailure()));
        return ZeroTrustStartupTest.refusal(failure.get());
    }

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        Instant deadline = Instant.now().plus(Duration.ofSeconds(30));
        while (!condition.getAsBoolean()) {
            assertThat(Instant.now()).as("waiting for " + what).isBefore(deadline);
            Thread.sleep(20);
        }
    }

    private static long deadLetters() {
        String length = redis.executeAsAdmin("XLEN", DEAD_LETTERS);
        return Long.parseLong(length.isEmpty() ? "0" : length);
    }

    private static String pending() {
        return redis.executeAsAdmin("XPENDING", STREAM, "workers").lines().findFirst().orElse("");
    }

    /** A token for the queue claiming to be api's, signed with a key api never published. */
    private static String forgedToken(byte[] payload) throws NoSuchAlgorithmException {
        ServiceTokens forger = ServiceTokens.builder().identity(zone.api)
                .keys(KeySet.builder().signingKey(TokenKey.generate(TokenAlgorithm.ES256, "api-1")).build()).build();
        String digest = Base64.getUrlEncoder().withoutPadding()
                .encodeToString(MessageDigest.getInstance("SHA-256").digest(payload));
        return forger.mint(TokenRequest.to("spiffe://" + TestZone.DOMAIN + "/queue/jobs").scopes("queue:jobs:publish")
                .claim("pld", digest).build());
    }

    @Test
    void thePublisherBeanPublishesAndTheConsumerBeanHandlesEachMessageOnce() throws Exception {
        List<String> handled = new CopyOnWriteArrayList<>();
        MessageHandler handler = message -> handled.add(new String(message.payload(), StandardCharsets.UTF_8));
        runner(Map.of()).withBean(MessageHandler.class, () -> handler).run(context -> {
            assertThat(context).hasNotFailed().hasSingleBean(QueueConsumer.class);
            QueuePublisher publisher = context.getBean(QueuePublisher.class);
            assertThat(publisher.destination()).isEqualTo(STREAM);
            publisher.publish("first".getBytes(StandardCharsets.UTF_8));
            publisher.publish("second".getBytes(StandardCharsets.UTF_8));
            await("both messages handled and acknowledged", () -> handled.size() == 2 && pending().equals("0"));
            Thread.sleep(300); // several more polls: nothing runs again
            assertThat(handled).containsExactly("first", "second");
        });
    }

    @Test
    void refusesForgedAndUnsignedEntriesByDeadLetteringThemNeverHandled() throws Exception {
        List<String> handled = new CopyOnWriteArrayList<>();
        MessageHandler handler = message -> handled.add(new String(message.payload(), StandardCharsets.UTF_8));
        long before = deadLetters();
        byte[] forged = "forged".getBytes(StandardCharsets.UTF_8);
        String payload = Base64.getUrlEncoder().withoutPadding().encodeToString(forged);
        // Entries written straight into api's stream by someone with Redis access but not api's signing key.
        redis.executeAsAdmin("XADD", STREAM, "*", "v", "1", "tok", forgedToken(forged), "pld", payload);
        redis.executeAsAdmin("XADD", STREAM, "*", "v", "1", "tok", "not-a-token", "pld", payload);
        runner(Map.of("zerotrust.queue.consume.consumer", "worker-2")).withBean(MessageHandler.class, () -> handler)
                .run(context -> {
                    context.getBean(QueuePublisher.class).publish("genuine".getBytes(StandardCharsets.UTF_8));
                    await("the genuine message handled", () -> handled.contains("genuine") && pending().equals("0"));
                    assertThat(handled).containsExactly("genuine");
                    assertThat(deadLetters()).isEqualTo(before + 2);
                    RecordingAuditLog audit = (RecordingAuditLog) context.getBean(AuditLog.class);
                    assertThat(audit.withAction("queue.message_rejected")).extracting(event -> event.fields()
                            .get("reason")).containsOnly("FORGED", "MALFORMED").hasSize(2);
                });
    }

    @Test
    void closingTheContextWaitsForTheHandlerInProgress() throws Exception {
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        List<String> finished = new CopyOnWriteArrayList<>();
        MessageHandler slow = message -> {
            started.countDown();
            assertThat(release.await(30, TimeUnit.SECONDS)).isTrue();
            finished.add(new String(message.payload(), StandardCharsets.UTF_8));
        };
        runner(Map.of("zerotrust.queue.consume.consumer", "worker-3")).withBean(MessageHandler.class, () -> slow)
                .run(context -> {
                    context.getBean(QueuePublisher.class).publish("slow".getBytes(StandardCharsets.UTF_8));
                    assertThat(started.await(30, TimeUnit.SECONDS)).isTrue();
                    Thread closer = new Thread(context::close);
                    closer.start();
                    closer.join(300);
                    assertThat(closer.isAlive()).as("close waits for the handler").isTrue();
                    assertThat(finished).isEmpty();
                    release.countDown();
                    closer.join(30_000);
                    assertThat(closer.isAlive()).isFalse();
                    assertThat(finished).containsExactly("slow");
                    assertThat(pending()).isEqualTo("0"); // handled, recorded and acknowledged before the close
                });
    }

    @Test
    void aMissingConsumerGroupIsAuditedAndPolledAgain() throws Exception {
        runner(Map.of("zerotrust.queue.consume.group", "nobody-created-it"), "zerotrust.queue.publish")
                .withBean(MessageHandler.class, () -> message -> { })
                .run(context -> {
                    RecordingAuditLog audit = (RecordingAuditLog) context.getBean(AuditLog.class);
                    await("two failed polls", () -> audit.withAction(SpringAudit.QUEUE_POLL_FAILED).size() >= 2);
                    AuditEvent failed = audit.last(SpringAudit.QUEUE_POLL_FAILED);
                    assertThat(failed.fields()).containsEntry("reason", "NO_GROUP").containsEntry("queue", "jobs")
                            .containsEntry("group", "nobody-created-it").containsEntry("consumer", "worker-1");
                });
    }

    @Test
    void refusesAQueueThePolicyDoesNotLetThisServicePublish() {
        ZeroTrustConfigurationException refusal = refusedStart(runner(Map.of("zerotrust.queue.publish", "orders"),
                "zerotrust.queue.consume.queue"));
        assertThat(refusal.reason()).isEqualTo(ZeroTrustConfigurationException.Reason.QUEUE_NOT_GRANTED);
        assertThat(refusal.setting()).isEqualTo("zerotrust.queue.publish");
        assertThat(refusal).hasMessageContaining("queue:orders:publish");
    }

    @Test
    void refusesAQueueThePolicyDoesNotLetThisServiceConsume() {
        ZeroTrustConfigurationException refusal = refusedStart(runner(Map.of("zerotrust.queue.consume.queue",
                "orders"), "zerotrust.queue.publish").withBean(MessageHandler.class, () -> message -> { }));
        assertThat(refusal.reason()).isEqualTo(ZeroTrustConfigurationException.Reason.QUEUE_NOT_GRANTED);
        assertThat(refusal.setting()).isEqualTo("zerotrust.queue.consume.queue");
        assertThat(refusal).hasMessageContaining("queue:orders:consume");
    }

    @Test
    void refusesToTrustAPublisherThePolicyDoesNotLetPublish() {
        ZeroTrustConfigurationException refusal = refusedStart(runner(Map.of(
                "zerotrust.queue.consume.publishers.gateway.jwks", "file:" + certs.resolve("gateway.jwks.json")))
                .withBean(MessageHandler.class, () -> message -> { }));
        assertThat(refusal.reason()).isEqualTo(ZeroTrustConfigurationException.Reason.QUEUE_NOT_GRANTED);
        assertThat(refusal.setting()).isEqualTo("zerotrust.queue.consume.publishers.gateway");
    }

    @Test
    void refusesAConsumerWithoutAMessageHandler() {
        ZeroTrustConfigurationException refusal = refusedStart(runner(Map.of()));
        assertThat(refusal.reason()).isEqualTo(ZeroTrustConfigurationException.Reason.MISSING_SETTING);
        assertThat(refusal.setting()).isEqualTo("zerotrust.queue.consume.queue");
        assertThat(refusal).hasMessageContaining("MessageHandler");
    }

    @Test
    void refusesAConsumerWithoutAStableName() {
        ZeroTrustConfigurationException refusal = refusedStart(runner(Map.of(), "zerotrust.queue.consume.consumer")
                .withBean(MessageHandler.class, () -> message -> { }));
        assertThat(refusal.reason()).isEqualTo(ZeroTrustConfigurationException.Reason.MISSING_SETTING);
        assertThat(refusal.setting()).isEqualTo("zerotrust.queue.consume.consumer");
    }

    @Test
    void refusesAMessageLifetimeTheQueueRefuses() {
        ZeroTrustConfigurationException refusal = refusedStart(runner(Map.of("zerotrust.queue.message-lifetime",
                "0s"), "zerotrust.queue.consume.queue"));
        assertThat(refusal.reason()).isEqualTo(ZeroTrustConfigurationException.Reason.INVALID_QUEUE_SETTING);
        assertThat(refusal.setting()).isEqualTo("zerotrust.queue.message-lifetime");
    }

    @Test
    void refusesQueueBeansWithoutZerotrustRedis() {
        ZeroTrustConfigurationException refusal = refusedStart(runner(Map.of(), "zerotrust.redis.uri",
                "zerotrust.redis.password-file", "zerotrust.queue.consume.queue"));
        assertThat(refusal.reason()).isEqualTo(ZeroTrustConfigurationException.Reason.MISSING_SETTING);
        assertThat(refusal.setting()).isEqualTo("zerotrust.redis.uri");
    }

    @Test
    void refusesAPublisherWithoutASigningKey() {
        AtomicReference<Throwable> failure = new AtomicReference<>();
        zone.runner(Map.of("zerotrust.policy", "file:" + certs.resolve("queue-policy.json"),
                        "zerotrust.redis.uri", redis.uri(),
                        "zerotrust.redis.password-file", certs.resolve("redis-password").toString(),
                        "zerotrust.queue.publish", "jobs"))
                .withConfiguration(AutoConfigurations.of(ZeroTrustRedisAutoConfiguration.class,
                        ZeroTrustQueueAutoConfiguration.class))
                .withBean(AuditLog.class, RecordingAuditLog::new)
                .run(context -> failure.set(context.getStartupFailure()));
        ZeroTrustConfigurationException refusal = ZeroTrustStartupTest.refusal(failure.get());
        assertThat(refusal.reason()).isEqualTo(ZeroTrustConfigurationException.Reason.MISSING_SETTING);
        assertThat(refusal.setting()).isEqualTo("zerotrust.queue.publish");
        assertThat(refusal).hasMessageContaining("TokenKey");
    }

    @Test
    void configuresNothingWithoutQueueSettings() {
        runner(Map.of(), "zerotrust.queue.publish", "zerotrust.queue.consume.queue", "zerotrust.queue.consume.group",
                "zerotrust.queue.consume.consumer", "zerotrust.queue.consume.publishers.api.jwks",
                "zerotrust.queue.consume.poll-interval")
                .run(context -> assertThat(context).hasNotFailed().doesNotHaveBean(QueuePublisher.class)
                        .doesNotHaveBean(QueueConsumer.class));
    }
}
