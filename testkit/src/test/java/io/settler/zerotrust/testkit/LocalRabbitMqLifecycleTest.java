package io.settler.zerotrust.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.MessageProperties;
import io.settler.zerotrust.pki.DevCertificateAuthority;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * A node of its own: it runs isolated from the machine's epmd and broker, survives a crash, and
 * leaves nothing behind.
 */
class LocalRabbitMqLifecycleTest {

    private static final DevCertificateAuthority CA = DevCertificateAuthority.create("lifecycle.test");
    private static final String DEFINITIONS = """
            {"users": [{"name": "spiffe://lifecycle.test/worker", "password_hash": "", "tags": []}],
             "vhosts": [{"name": "jobs"}],
             "permissions": [{"user": "spiffe://lifecycle.test/worker", "vhost": "jobs",
                              "configure": ".*", "write": ".*", "read": ".*"}]}
            """;

    @Test
    void runsIsolatedKeepsDurableMessagesAcrossACrashAndStopsEveryProcess() throws Exception {
        List<ProcessHandle> processes = new ArrayList<>();
        Path directory;
        try (LocalRabbitMq rabbit = LocalRabbitMq.builder(CA).definitions(DEFINITIONS).start()) {
            directory = rabbit.directory();
            processes.add(rabbit.epmdProcess());
            processes.add(rabbit.process());
            processes.addAll(rabbit.process().descendants().toList());
            assertThat(rabbit.nodeName()).matches("zt-[0-9a-f]{10}@localhost");
            // Its own epmd, never the machine's on 4369; the VM is the process the testkit started.
            String arguments = String.join(" ", rabbit.process().info().arguments().orElseThrow());
            assertThat(arguments).contains("-epmd_port ").doesNotContain("-epmd_port 4369");
            assertThat(rabbit.process().info().command().orElseThrow()).endsWith("beam.smp");
            if (ServerUser.runningAsRoot()) {
                assertThat(rabbit.process().info().user()).contains(ServerUser.RABBITMQ_OS_USER);
                assertThat(rabbit.epmdProcess().info().user()).contains(ServerUser.RABBITMQ_OS_USER);
            }

            try (Connection connection = RabbitClients.connect(rabbit, "jobs", "worker");
                 Channel channel = connection.createChannel()) {
                channel.queueDeclare("q.durable", true, false, false, null);
                channel.confirmSelect();
                channel.basicPublish("", "q.durable", MessageProperties.PERSISTENT_BASIC,
                        new byte[] {42});
                channel.waitForConfirmsOrDie(10_000);
            }
            int port = rabbit.tlsPort();
            // The message is on disk once confirmed; the queue's declaration sits in Mnesia's transaction log,
            // which RabbitMQ may still hold in a write buffer: a kill -9 that soon lost it once (CI, 2026-12-07).
            // The test is about the testkit keeping the node's directory across a crash, so flush that log first.
            rabbit.rabbitmqctl("eval", "mnesia:sync_log().");

            rabbit.kill();
            assertThat(rabbit.isRunning()).isFalse();
            assertThatThrownBy(() -> RabbitClients.connect(rabbit, "jobs", "worker").close())
                    .isInstanceOf(IOException.class);
            rabbit.start();

            assertThat(rabbit.tlsPort()).isEqualTo(port);
            processes.add(rabbit.process());
            processes.addAll(rabbit.process().descendants().toList());
            try (Connection connection = RabbitClients.connect(rabbit, "jobs", "worker");
                 Channel channel = connection.createChannel()) {
                assertThat(channel.basicGet("q.durable", true).getBody()).containsExactly(42);
            }
            // No Erlang error reports (an unreadable working directory, say) nor crashed processes.
            assertThat(Files.readString(rabbit.logFile())).doesNotContain("eacces", "ERROR REPORT", "crasher");
        }

        for (ProcessHandle process : processes) {
            process.onExit().get(10, TimeUnit.SECONDS);
            assertThat(process.isAlive()).as("process %d", process.pid()).isFalse();
        }
        assertThat(Files.exists(directory)).isFalse();
        assertNoProcessMentions(directory);
    }

    @Test
    void failsToStartWhenTheDefinitionsDoNotImportAndLeavesNothingBehind() throws IOException {
        String unimportable = """
                {"users": [{"name": "spiffe://lifecycle.test/worker", "password_hash": "", "tags": []}],
                 "permissions": [{"user": "spiffe://lifecycle.test/worker", "vhost": "missing",
                                  "configure": ".*", "write": ".*", "read": ".*"}]}
                """;
        assertThat(serverDirectories()).isEmpty();
        assertThatThrownBy(() -> LocalRabbitMq.builder(CA).definitions(unimportable).start().close())
                .isInstanceOf(TestkitException.class)
                .hasMessageContaining("did not import all of its definitions")
                .hasMessageContaining("virtual host 'missing' does not exist");
        assertThat(serverDirectories()).isEmpty();
    }

    @Test
    void refusesDefinitionsThatAreNotJson() {
        assertThatThrownBy(() -> LocalRabbitMq.builder(CA).definitions("{\"users\": ["))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not valid JSON");
        assertThatThrownBy(() -> LocalRabbitMq.builder(CA).definitions("[]"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("JSON object");
    }

    /** The RabbitMQ and epmd directories this JVM owns (other builds on the machine have theirs). */
    private static List<Path> serverDirectories() throws IOException {
        String ours = ProcessHandle.current().pid() + " ";
        try (Stream<Path> all = Files.list(ServerDirectory.DEFAULT_PARENT)) {
            return all.filter(path -> path.getFileName().toString().startsWith(ServerDirectory.PREFIX + "rabbitmq-")
                            || path.getFileName().toString().startsWith(ServerDirectory.PREFIX + "epmd-"))
                    .filter(path -> {
                        try {
                            return Files.readString(path.resolve(ServerDirectory.OWNER_FILE)).startsWith(ours);
                        } catch (IOException e) {
                            return false; // gone, or not ours to read
                        }
                    })
                    .toList();
        }
    }

    private static void assertNoProcessMentions(Path directory) {
        String directoryName = directory.toString();
        assertThat(ProcessHandle.allProcesses()
                .filter(p -> String.join(" ", p.info().arguments().orElse(new String[0])).contains(directoryName))
                .toList()).isEmpty();
    }
}
