package io.settler.zerotrust.queue.rabbitmq;

import static java.nio.charset.StandardCharsets.UTF_8;

import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.settler.zerotrust.audit.AuditLog;
import io.settler.zerotrust.credentials.TlsIdentity;
import io.settler.zerotrust.credentials.TrustBundle;
import io.settler.zerotrust.queue.DeliverySource;
import io.settler.zerotrust.queue.EnvelopeVerifier;
import io.settler.zerotrust.queue.QueueConsumer;
import io.settler.zerotrust.redis.HardenedRedis;
import io.settler.zerotrust.redis.PasswordSource;
import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Properties;

/**
 * A worker JVM for {@link RabbitMqFailoverTest}: consumes the jobs queue with {@code basic.consume}
 * and a handler whose effect is {@code INCR worker:effect:<payload>} on the guard's Redis; on the
 * payload named by {@code block}, it marks {@code worker:started:<payload>} and waits to be killed
 * mid-message. Settings come from a properties file (paths of PEM files, never secrets themselves).
 */
final class WorkerProcess {

    private WorkerProcess() {
    }

    public static void main(String[] args) throws Exception {
        Properties settings = new Properties();
        try (Reader reader = Files.newBufferedReader(Path.of(args[0]), UTF_8)) {
            settings.load(reader);
        }
        TrustBundle trust = TrustBundle.fromPem(Path.of(settings.getProperty("ca")));
        AuditLog audit = AuditLog.slf4j();
        try (HardenedRedis redisClient = HardenedRedis.builder().host(settings.getProperty("redis.host"))
                .port(Integer.parseInt(settings.getProperty("redis.port"))).user("worker")
                .password(PasswordSource.fromFile(Path.of(settings.getProperty("redis.password"))))
                .credentials(Deployment.credentials(TlsIdentity.fromPem(Path.of(settings.getProperty("redis.chain")),
                        Path.of(settings.getProperty("redis.key"))), trust))
                .ioThreads(1).build();
             StatefulRedisConnection<String, String> redisConnection = redisClient.connect();
             RabbitMqConnection rabbit = Deployment.connections(Deployment.credentials(TlsIdentity.fromPem(
                     Path.of(settings.getProperty("rabbit.chain")), Path.of(settings.getProperty("rabbit.key"))),
                     trust), List.of(settings.getProperty("rabbit.nodes").split(",")), audit)
                     .connect("worker-process")) {
            RedisCommands<String, String> redis = redisConnection.sync();
            EnvelopeVerifier verifier = Deployment.verifier(Files.readString(Path.of(settings.getProperty("jwks"))),
                    redis, audit);
            String block = settings.getProperty("block");
            DeliverySource source = RabbitMqTransport.source(rabbit, verifier).batchSize(10)
                    .consume(Duration.ofMillis(200)).build();
            QueueConsumer consumer = QueueConsumer.builder(source, verifier, message -> {
                String payload = new String(message.payload(), UTF_8);
                if (payload.equals(block)) {
                    redis.set("worker:started:" + payload, "1");
                    Thread.sleep(Long.MAX_VALUE); // killed here, mid-message
                }
                redis.incr("worker:effect:" + payload);
            }).lease(Deployment.LEASE).build();
            while (true) {
                consumer.poll();
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
