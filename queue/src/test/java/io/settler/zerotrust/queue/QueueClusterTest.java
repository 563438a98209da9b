package io.settler.zerotrust.queue;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.lettuce.core.Range;
import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.StreamMessage;
import io.lettuce.core.cluster.SlotHash;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import io.lettuce.core.cluster.api.sync.RedisAdvancedClusterCommands;
import io.settler.zerotrust.credentials.CredentialSource;
import io.settler.zerotrust.credentials.TlsIdentity;
import io.settler.zerotrust.credentials.TrustBundle;
import io.settler.zerotrust.pki.DevCertificateAuthority;
import io.settler.zerotrust.pki.IssuedCertificate;
import io.settler.zerotrust.redis.HardenedRedisCluster;
import io.settler.zerotrust.redis.KeyNamespace;
import io.settler.zerotrust.redis.RedisAcl;
import io.settler.zerotrust.redis.RedisReplayGuard;
import io.settler.zerotrust.testkit.LocalRedisCluster;
import io.settler.zerotrust.token.ServiceTokens;
import io.settler.zerotrust.token.TokenAlgorithm;
import io.settler.zerotrust.token.TokenKey;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The queue on the testkit's real three-master TLS Redis Cluster, whose users on every node are
 * the ACL rendered from the policy for a cluster: api publishes, worker consumes (its replay guard
 * in its clustered namespace), operator sets up the group, each over a {@link HardenedRedisCluster}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS) // one cluster and one set of connections for the class
class QueueClusterTest {

    private static final Map<String, String> PASSWORDS = Map.of("api", "cl-queue-api-secret",
            "billing", "cl-queue-billing-secret", "worker", "cl-queue-worker-secret",
            "operator", "cl-queue-operator-secret");
    private static final String API_STREAM = RedisAcl.streamKey("jobs", "api");
    private static final String DEAD = RedisAcl.deadLetterKey("jobs");

    private final Fixtures fixtures = new Fixtures();
    private final List<VerifiedMessage> handled = new CopyOnWriteArrayList<>();
    private final List<AutoCloseable> open = new ArrayList<>();
    private LocalRedisCluster cluster;
    private RedisAdvancedClusterCommands<String, String> api;
    private RedisAdvancedClusterCommands<String, String> worker;
    private RedisAdvancedClusterCommands<String, String> operator;
    private EnvelopeVerifier verifier;

    @BeforeAll
    void startClusterWithRenderedAcl(@TempDir Path passwords) {
        cluster = LocalRedisCluster.builder(DevCertificateAuthority.create("queue.test")).start();
        Fixtures.loadRenderedAcl(cluster, PASSWORDS, "~queue:* +xgroup|create +xgroup|destroy +xrange +del"
                + " +acl|whoami +client|info +@connection");
        api = connectAs("api", passwords);
        worker = connectAs("worker", passwords);
        operator = connectAs("operator", passwords);
    }

    @AfterAll
    void stopCluster() throws Exception {
        for (int i = open.size() - 1; i >= 0; i--) {
            open.get(i).close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    @BeforeEach
    void freshQueue() {
        handled.clear();
        operator.del(API_STREAM, DEAD); // one slot: one node, one command
        verifier = EnvelopeVerifier.builder(fixtures.queueTokens(), "jobs").policy(Fixtures.POLICY)
                .replayGuard(RedisReplayGuard.builder(worker, KeyNamespace.clustered("worker")).build())
                .auditLog(fixtures.audit).build();
        QueueConsumer.createGroup(operator, verifier, "workers");
    }

    @Test
    void publishedMessagesAreConsumedAndVerifiedAcrossTheCluster() {
        QueuePublisher publisher = QueuePublisher.of(api, fixtures.signer());
        for (int i = 0; i < 5; i++) {
            publisher.publish(("job-" + i).getBytes(UTF_8));
        }
        QueueConsumer consumer = consumer();
        assertThat(consumer.poll()).isEqualTo(5);
        assertThat(handled).extracting(message -> new String(message.payload(), UTF_8))
                .containsExactly("job-0", "job-1", "job-2", "job-3", "job-4");
        assertThat(handled).extracting(VerifiedMessage::publisher).containsOnly(Fixtures.API);
        assertThat(worker.xpending(API_STREAM, "workers").getCount()).isZero();
        assertThat(consumer.poll()).isZero();
        // Every stream of the queue, the dead letters included, is in the queue's one hash slot, so
        // XREADGROUP over all publishers' streams is a single-node command.
        assertThat(List.of(API_STREAM, RedisAcl.streamKey("jobs", "billing"), DEAD))
                .extracting(SlotHash::getSlot).containsOnly(SlotHash.getSlot("{jobs}"));
    }

    @Test
    void forgedAndTamperedMessagesAreDeadLetteredAndNeverHandled() {
        ServiceTokens forger = ServiceTokens.builder().identity(Fixtures.API)
                .signingKey(TokenKey.generate(TokenAlgorithm.ED25519, "api-1")).build();
        api.xadd(API_STREAM, EnvelopeSigner.builder(forger, "jobs").build().seal("rm -rf".getBytes(UTF_8)).toFields());
        Map<String, String> tampered = new LinkedHashMap<>(fixtures.signer().seal("pay 10".getBytes(UTF_8)).toFields());
        tampered.put("pld", Envelope.encode("pay 10000".getBytes(UTF_8)));
        api.xadd(API_STREAM, tampered);

        assertThat(consumer().poll()).isEqualTo(2);
        assertThat(handled).isEmpty();
        assertThat(operator.xrange(DEAD, Range.create("-", "+"))).extracting(StreamMessage::getBody)
                .extracting(body -> body.get("reason")).containsExactly("FORGED", "TAMPERED");
        assertThat(worker.xpending(API_STREAM, "workers").getCount()).isZero();
    }

    @Test
    void workerTryingToPublishIsRefusedByRedis() {
        assertNoPermission(() -> worker.xadd(API_STREAM, Map.of("job", "forged")));
        assertNoPermission(() -> QueuePublisher.of(worker, fixtures.signer()).publish(new byte[1]));
        assertThat(operator.xrange(API_STREAM, Range.create("-", "+"))).isEmpty();
    }

    @Test
    void onlyTheOperatorCreatesConsumerGroups() {
        assertThatThrownBy(() -> QueueConsumer.createGroup(worker, verifier, "others"))
                .isInstanceOf(RedisCommandExecutionException.class).hasMessageContaining("NOPERM");
        assertNoPermission(() -> QueueConsumer.createGroup(api, verifier, "others"));
        QueueConsumer.createGroup(operator, verifier, "others");
        QueueConsumer.createGroup(operator, verifier, "others"); // idempotent
        QueuePublisher.of(api, fixtures.signer()).publish("for both groups".getBytes(UTF_8));
        // The same replay guard: its records are per consumer group.
        QueueConsumer other = QueueConsumer.builder(worker, verifier, handled::add).group("others")
                .consumer("o1").auditLog(fixtures.audit).build();
        assertThat(other.poll()).isEqualTo(1);
        assertThat(handled).hasSize(1);
    }

    private QueueConsumer consumer() {
        return QueueConsumer.builder(worker, verifier, handled::add).group("workers").consumer("w1")
                .auditLog(fixtures.audit).build();
    }

    private RedisAdvancedClusterCommands<String, String> connectAs(String user, Path dir) {
        IssuedCertificate certificate = cluster.clientCertificate(user);
        HardenedRedisCluster client = Fixtures.redisClient(cluster.nodes().get(0), user, PASSWORDS.get(user), dir)
                .credentials(CredentialSource.fixed(TlsIdentity.of(certificate.privateKey(), certificate.chain()),
                        TrustBundle.of(List.of(cluster.nodeCertificateAuthority().rootCertificate()))))
                .expectedServer(cluster.nodeIdentity()) // the cluster's node CA and node identity
                .buildCluster();
        open.add(client);
        StatefulRedisClusterConnection<String, String> connection = client.connect();
        open.add(connection);
        return connection.sync();
    }

    private static void assertNoPermission(Runnable command) {
        assertThatThrownBy(command::run).isInstanceOf(RedisCommandExecutionException.class)
                .hasMessageContaining("NOPERM");
    }
}
