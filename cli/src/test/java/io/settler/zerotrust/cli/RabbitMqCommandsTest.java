package io.settler.zerotrust.cli;

import static io.settler.zerotrust.cli.ZtRun.inProcess;
import static io.settler.zerotrust.cli.ZtRun.process;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.settler.zerotrust.pki.DevCertificateAuthority;
import io.settler.zerotrust.policy.Policy;
import io.settler.zerotrust.queue.rabbitmq.RabbitMqBrokerConfig;
import io.settler.zerotrust.testkit.LocalRabbitMq;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code zt render rabbitmq} and {@code zt drift rabbitmq} against one real RabbitMQ node started
 * from what {@code zt render rabbitmq} wrote (its definitions, and its {@code rabbitmq.conf} rendered
 * for the node's own port and files): in sync, drift made with {@code rabbitmqctl}, a broker that
 * cannot be reached.
 */
class RabbitMqCommandsTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String POLICY = """
            {
              "trustDomain": "cli.test",
              "services": {
                "api": {"scopes": ["queue:jobs:publish"]},
                "worker": {"scopes": ["queue:jobs:consume"]},
                "gateway": {"scopes": ["orders:read"]}
              }
            }
            """;
    private static final DevCertificateAuthority CA = DevCertificateAuthority.create("cli.test");

    @TempDir
    static Path dir;

    private static Path out;
    private static LocalRabbitMq rabbit;

    @BeforeAll
    static void renderThenStartTheBrokerFromTheRenderedFiles() throws Exception {
        Path policy = Files.writeString(dir.resolve("mine.json"), POLICY);
        out = dir.resolve("broker");
        ZtRun.Result render = process("render", "rabbitmq", "--policy", policy, "--out", out, "--vhost", "jobs",
                "--rabbitmq-port", "5700");
        assertThat(render.exit()).as(render.toString()).isZero();
        assertThat(render.out()).contains("rendered definitions.json, rabbitmq.conf, SETUP.txt");
        rabbit = LocalRabbitMq.builder(CA).definitions(Files.readString(out.resolve("rendered/definitions.json")))
                .configuration(RabbitMqBrokerConfig::rabbitmqConf).start();
        rabbit.clientCertificate("queue-setup").writePem(dir, "queue-setup"); // queue-setup.crt/.key, ca.crt
    }

    @AfterAll
    static void stop() {
        if (rabbit != null) {
            rabbit.close();
        }
    }

    @Test
    void renderWritesTheLibrarysDefinitionsAListenerForTheGivenPortAndSetup() throws Exception {
        assertThat(out.resolve("rendered/definitions.json")).content().isEqualTo(RabbitMqBrokerConfig
                .builder(Policy.fromJson(POLICY)).virtualHost("jobs").build().definitionsJson());
        assertThat(out.resolve("rendered/rabbitmq.conf")).content().contains("listeners.tcp = none",
                "listeners.ssl.default = 5700", "ssl_options.versions.1 = tlsv1.3",
                "ssl_options.fail_if_no_peer_cert = true", "auth_mechanisms.1 = EXTERNAL",
                "ssl_options.certfile = " + out.toAbsolutePath().resolve("rabbitmq-server.crt"),
                "load_definitions = " + out.toAbsolutePath().resolve("rendered/definitions.json"));
        assertThat(out.resolve("rendered/SETUP.txt")).content().contains("rabbitmq_auth_mechanism_ssl",
                "rabbitmqctl export_definitions", "zt drift rabbitmq --policy policy.json", "--vhost jobs");
        assertThat(out.resolve("policy.json")).hasSameTextualContentAs(dir.resolve("mine.json"));
        Path again = dir.resolve("again");
        assertThat(inProcess("render", "rabbitmq", "--policy", dir.resolve("mine.json"), "--out", again, "--vhost",
                "jobs", "--rabbitmq-port", "5700").exit()).isZero();
        assertThat(again.resolve("rendered/definitions.json")).as("deterministic")
                .hasSameTextualContentAs(out.resolve("rendered/definitions.json"));
    }

    @Test
    void driftInSyncExitsZero() throws Exception {
        ZtRun.Result result = process(driftArgs(exported()).toArray());

        assertThat(result.exit()).as(result.toString()).isZero();
        assertThat(result.out()).startsWith("IN SYNC: rabbitmq localhost:" + rabbit.tlsPort() + "/jobs");
    }

    @Test
    void driftMadeWithRabbitmqctlExitsOneWithEachFindingInJson() throws Exception {
        String api = rabbit.userName("api");
        String worker = rabbit.userName("worker");
        try {
            rabbit.rabbitmqctl("add_user", "intruder", UUID.randomUUID().toString());
            rabbit.rabbitmqctl("set_permissions", "-p", "jobs", api, ".*", ".*", ".*");
            rabbit.rabbitmqctl("delete_user", worker);

            List<Object> args = driftArgs(exported());
            args.add("--json");
            ZtRun.Result result = inProcess(args.toArray());

            assertThat(result.exit()).as(result.toString()).isEqualTo(1);
            JsonNode json = JSON.readTree(result.out());
            assertThat(json.get("inSync").asBoolean()).isFalse();
            assertThat(json.get("server").asText()).isEqualTo("rabbitmq");
            List<String> kinds = new ArrayList<>();
            json.get("findings").forEach(finding -> kinds.add(finding.get("kind").asText() + " "
                    + finding.get("subject").asText()));
            assertThat(kinds).containsExactlyInAnyOrder("UNEXPECTED_USER user intruder",
                    "MISSING_USER user " + worker, "MISSING_PERMISSION permission of " + worker + " in jobs",
                    "PERMISSION_DIFFERS permission of " + api + " in jobs");
            assertThat(json.get("differences")).hasSize(4);
        } finally {
            rabbit.rabbitmqctl("delete_user", "intruder");
            rabbit.importDefinitions(Files.readString(out.resolve("rendered/definitions.json")));
        }
    }

    @Test
    void driftOfABrokerThatCannotBeReachedExitsThree() throws Exception {
        int closed;
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closed = socket.getLocalPort();
        }
        List<Object> args = driftArgs(exported());
        args.set(args.indexOf(Integer.toString(rabbit.tlsPort())), Integer.toString(closed));

        ZtRun.Result result = inProcess(args.toArray());

        assertThat(result.exit()).as(result.toString()).isEqualTo(3);
        assertThat(result.err().strip()).doesNotContain("\n").startsWith("zt: could not check: ")
                .contains(String.valueOf(closed));
    }

    @Test
    void usageErrorsExitTwoAndAPolicyWithoutQueuesIsRefused() throws Exception {
        List<Object> missing = driftArgs(dir.resolve("no-such-export.json"));
        ZtRun.Result noExport = inProcess(missing.toArray());
        assertThat(noExport.exit()).as(noExport.toString()).isEqualTo(2);
        assertThat(noExport.err().strip()).doesNotContain("\n").contains("no-such-export.json");

        Path notDefinitions = Files.writeString(dir.resolve("not-definitions.json"), "[1, 2]");
        ZtRun.Result wrong = inProcess(driftArgs(notDefinitions).toArray());
        assertThat(wrong.exit()).as(wrong.toString()).isEqualTo(2);
        assertThat(wrong.err()).contains("export_definitions");

        Path noQueues = Files.writeString(dir.resolve("no-queues.json"), PolicyCommandTest.POLICY);
        ZtRun.Result refused = inProcess("render", "rabbitmq", "--policy", noQueues, "--out", dir.resolve("none"));
        assertThat(refused.exit()).as(refused.toString()).isEqualTo(1);
        assertThat(refused.out()).startsWith("REFUSED: ").contains("queue:<name>:publish");
    }

    private static Path exported() throws Exception {
        return Files.writeString(dir.resolve("live-" + UUID.randomUUID() + ".json"), rabbit.exportDefinitions());
    }

    private static List<Object> driftArgs(Path definitions) {
        return new ArrayList<>(List.of("drift", "rabbitmq", "--policy", out.resolve("policy.json"), "--definitions",
                definitions, "--vhost", "jobs", "--host", rabbit.host(), "--port", Integer.toString(rabbit.tlsPort()),
                "--cert", dir.resolve("queue-setup.crt"), "--key", dir.resolve("queue-setup.key"), "--trust",
                dir.resolve("ca.crt")));
    }
}
