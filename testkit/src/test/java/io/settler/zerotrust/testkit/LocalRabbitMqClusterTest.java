package io.settler.zerotrust.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.GetResponse;
import com.rabbitmq.client.MessageProperties;
import com.rabbitmq.client.ShutdownSignalException;
import io.settler.zerotrust.pki.DevCertificateAuthority;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** Three nodes form one cluster; with one stopped, the others keep a quorum queue available; it rejoins. */
class LocalRabbitMqClusterTest {

    private static final DevCertificateAuthority CA = DevCertificateAuthority.create("cluster.test");
    private static final String DEFINITIONS = """
            {"users": [{"name": "spiffe://cluster.test/worker", "password_hash": "", "tags": []}],
             "vhosts": [{"name": "jobs"}],
             "permissions": [{"user": "spiffe://cluster.test/worker", "vhost": "jobs",
                              "configure": ".*", "write": ".*", "read": ".*"}]}
            """;
    private static final String QUEUE = "q.quorum";
    private static final int MESSAGES = 200;

    @Test
    void keepsAQuorumQueueAvailableWhileOneNodeIsStoppedAndRejoins() throws Exception {
        List<ProcessHandle> processes = new ArrayList<>();
        try (LocalRabbitMqCluster cluster = LocalRabbitMqCluster.builder(CA).definitions(DEFINITIONS).start()) {
            processes.add(cluster.epmdProcess());
            for (int i = 0; i < 3; i++) {
                assertThat(cluster.runningNodes(i)).isEqualTo(3);
                processes.add(cluster.node(i).process());
            }
            try (Connection connection = RabbitClients.connect(cluster.node(0), "jobs", "worker");
                 Channel channel = connection.createChannel()) {
                channel.queueDeclare(QUEUE, true, false, false, Map.of("x-queue-type", "quorum"));
                publish(channel, 0, MESSAGES / 2);
            }
            assertThat(cluster.node(1).rabbitmqctl("list_queues", "-p", "jobs", "name", "type", "members"))
                    .contains(QUEUE + "\tquorum").contains(cluster.node(0).nodeName())
                    .contains(cluster.node(1).nodeName()).contains(cluster.node(2).nodeName());

            assertThat(cluster.awaitQuorumMembersOnline("jobs", Duration.ofSeconds(30), QUEUE)).isTrue();

            cluster.stop(0); // the node the queue was declared on, its leader

            assertThat(cluster.node(0).isRunning()).isFalse();
            assertThat(cluster.awaitQuorumMembersOnline("jobs", Duration.ofMillis(500), QUEUE))
                    .as("the stopped node's member is offline").isFalse();
            assertThat(cluster.runningNodes(1)).isEqualTo(2);
            List<String> received = new ArrayList<>();
            try (Connection connection = connectAfterFailover(cluster.node(1));
                 Channel channel = connection.createChannel()) {
                publish(channel, MESSAGES / 2, MESSAGES);
                received.addAll(consume(channel, MESSAGES / 2));
            }

            cluster.start(0);
            processes.add(cluster.node(0).process());

            for (int i = 0; i < 3; i++) {
                assertThat(cluster.runningNodes(i)).isEqualTo(3);
            }
            try (Connection connection = RabbitClients.connect(cluster.node(0), "jobs", "worker");
                 Channel channel = connection.createChannel()) {
                received.addAll(consume(channel, MESSAGES - MESSAGES / 2));
                assertThat(channel.basicGet(QUEUE, false)).isNull();
            }
            assertThat(received).hasSize(MESSAGES).doesNotHaveDuplicates()
                    .containsExactlyElementsOf(IntStream.range(0, MESSAGES)
                            .mapToObj(Integer::toString).toList());

            // A survivor's virtual host that went down (here on purpose) is restarted before the next test.
            cluster.node(1).rabbitmqctl("eval", "rabbit_vhost_sup_sup:stop_and_delete_vhost(<<\"jobs\">>).");
            assertThat(cluster.node(1).rabbitmqctl("eval", "rabbit_vhost_sup_sup:is_vhost_alive(<<\"jobs\">>)."))
                    .isEqualToIgnoringWhitespace("false");
            cluster.awaitVirtualHostsUp();
            assertThat(cluster.node(1).rabbitmqctl("eval", "rabbit_vhost_sup_sup:is_vhost_alive(<<\"jobs\">>)."))
                    .isEqualToIgnoringWhitespace("true");
        }
        for (ProcessHandle process : processes) {
            assertThat(process.isAlive()).as("process %d", process.pid()).isFalse();
        }
    }

    /**
     * A connection to the vhost on a surviving node. Right after a member stops, the node may still
     * be restarting the vhost for a moment and closes a new connection with INTERNAL_ERROR ("access to
     * vhost refused"); a client reconnects, so this one does too, for at most 30 s. Any other refusal
     * fails at once.
     */
    private static Connection connectAfterFailover(LocalRabbitMq node) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            try {
                return RabbitClients.connect(node, "jobs", "worker");
            } catch (IOException e) {
                boolean vhostRestarting = e.getCause() instanceof ShutdownSignalException signal
                        && String.valueOf(signal.getMessage()).contains("access to vhost");
                if (!vhostRestarting || System.nanoTime() > deadline) {
                    throw e;
                }
                Thread.sleep(250);
            }
        }
    }

    private static void publish(Channel channel, int from, int to) throws Exception {
        channel.confirmSelect();
        for (int i = from; i < to; i++) {
            channel.basicPublish("", QUEUE, MessageProperties.PERSISTENT_BASIC,
                    Integer.toString(i).getBytes(StandardCharsets.UTF_8));
        }
        channel.waitForConfirmsOrDie(30_000);
    }

    private static List<String> consume(Channel channel, int count) throws Exception {
        List<String> received = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            GetResponse response = channel.basicGet(QUEUE, false);
            assertThat(response).as("message %d of %d", i, count).isNotNull();
            received.add(new String(response.getBody(), StandardCharsets.UTF_8));
            channel.basicAck(response.getEnvelope().getDeliveryTag(), false);
        }
        return received;
    }
}
