package io.settler.zerotrust.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.AuthenticationFailureException;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.GetResponse;
import com.rabbitmq.client.PossibleAuthenticationFailureException;
import com.rabbitmq.client.impl.PlainMechanism;
import io.settler.zerotrust.pki.DevCertificateAuthority;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSocket;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * One node for the class, started from a definitions file: a client with a certificate whose URI SAN
 * names a user logs in by EXTERNAL over TLS 1.3 and may do what its permissions allow; everything
 * else is refused.
 */
class LocalRabbitMqTest {

    private static final DevCertificateAuthority CA = DevCertificateAuthority.create("rabbit.test");
    private static final String WORKER = "spiffe://rabbit.test/worker";
    private static final String BILLING = "spiffe://rabbit.test/billing";
    /** Two passwordless users, two vhosts; the worker may use queues q.* and publish jobs.* on amq.topic. */
    private static final String DEFINITIONS = """
            {
              "users": [
                {"name": "%1$s", "password_hash": "", "tags": []},
                {"name": "%2$s", "password_hash": "", "tags": []}
              ],
              "vhosts": [{"name": "jobs"}, {"name": "billing"}],
              "permissions": [
                {"user": "%1$s", "vhost": "jobs", "configure": "^q\\\\.",
                 "write": "^(q\\\\..*|amq\\\\.default|amq\\\\.topic)$", "read": "^q\\\\."},
                {"user": "%2$s", "vhost": "billing", "configure": ".*", "write": ".*", "read": ".*"}
              ],
              "topic_permissions": [
                {"user": "%1$s", "vhost": "jobs", "exchange": "amq.topic", "write": "^jobs\\\\.", "read": ".*"}
              ]
            }
            """.formatted(WORKER, BILLING);

    private static LocalRabbitMq rabbit;

    @BeforeAll
    static void start() {
        rabbit = LocalRabbitMq.builder(CA).definitions(DEFINITIONS).start();
    }

    @AfterAll
    static void stop() {
        if (rabbit != null) {
            rabbit.close();
        }
    }

    @Test
    void workerLogsInByCertificateOverTls13AndPublishesAndConsumes() throws Exception {
        assertThat(rabbit.userName("worker")).isEqualTo(WORKER);
        try (Connection connection = RabbitClients.connect(rabbit, "jobs", "worker");
             Channel channel = connection.createChannel()) {
            channel.queueDeclare("q.work", true, false, false, null);
            channel.confirmSelect();
            channel.basicPublish("", "q.work", new AMQP.BasicProperties.Builder().userId(WORKER).build(),
                    "job-1".getBytes(StandardCharsets.UTF_8));
            channel.waitForConfirmsOrDie(10_000);

            GetResponse received = channel.basicGet("q.work", false);
            assertThat(received).isNotNull();
            assertThat(new String(received.getBody(), StandardCharsets.UTF_8)).isEqualTo("job-1");
            assertThat(received.getProps().getUserId()).isEqualTo(WORKER);
            channel.basicAck(received.getEnvelope().getDeliveryTag(), false);

            assertThat(rabbit.rabbitmqctl("list_connections", "user", "auth_mechanism", "ssl", "ssl_protocol"))
                    .contains(WORKER + "\tEXTERNAL\ttrue\ttlsv1.3");
        }
    }

    @Test
    void refusesAQueueOutsideTheWorkersPermissions() throws Exception {
        try (Connection connection = RabbitClients.connect(rabbit, "jobs", "worker")) {
            Channel channel = connection.createChannel();
            assertThat(closedBy(channel, () -> channel.queueDeclare("billing.invoices", true, false, false, null))
                    .getReplyCode()).isEqualTo(AMQP.ACCESS_REFUSED);
        }
    }

    @Test
    void refusesATopicOutsideTheWorkersTopicPermissions() throws Exception {
        try (Connection connection = RabbitClients.connect(rabbit, "jobs", "worker")) {
            Channel channel = connection.createChannel();
            channel.confirmSelect();
            channel.basicPublish("amq.topic", "jobs.created", null, new byte[] {1});
            channel.waitForConfirmsOrDie(10_000); // allowed: jobs.*

            AMQP.Channel.Close refusal = closedBy(channel, () -> {
                channel.basicPublish("amq.topic", "billing.created", null, new byte[] {1});
                channel.waitForConfirmsOrDie(10_000);
            });
            assertThat(refusal.getReplyCode()).isEqualTo(AMQP.ACCESS_REFUSED);
            assertThat(refusal.getReplyText()).contains("billing.created");
        }
    }

    @Test
    void refusesTheWorkerInAVirtualHostItHasNoPermissionsIn() {
        assertThatThrownBy(() -> RabbitClients.connect(rabbit, "billing", "worker").close())
                .isInstanceOf(IOException.class)
                .satisfies(e -> assertThat(rootMessage(e)).contains("NOT_ALLOWED - access to vhost 'billing' refused"));
    }

    /** The broker closes the channel (406) and logs the refusal, naming both users: its audit record. */
    @Test
    void refusesAForgedUserId() throws Exception {
        try (Connection connection = RabbitClients.connect(rabbit, "jobs", "worker")) {
            Channel channel = connection.createChannel();
            channel.queueDeclare("q.forged", false, false, true, null);
            channel.confirmSelect();
            AMQP.Channel.Close refusal = closedBy(channel, () -> {
                channel.basicPublish("", "q.forged", new AMQP.BasicProperties.Builder().userId(BILLING).build(),
                        "pay".getBytes(StandardCharsets.UTF_8));
                channel.waitForConfirmsOrDie(10_000);
            });
            assertThat(refusal.getReplyCode()).isEqualTo(AMQP.PRECONDITION_FAILED);
            assertThat(refusal.getReplyText()).contains("user_id property set to '" + BILLING + "'");
        }
        awaitLogged("operation basic.publish caused a channel exception precondition_failed: user_id property set to '"
                + BILLING + "' but authenticated user was '" + WORKER + "'");
    }

    /**
     * An AMQP header in the clear on the TLS port is no TLS record: the node answers with a TLS alert
     * and logs it, naming the record type it got, 65 ({@code 'A'} of {@code AMQP}).
     */
    @Test
    void refusesPlaintext() throws Exception {
        ConnectionFactory plaintext = new ConnectionFactory();
        plaintext.setHost(rabbit.host());
        plaintext.setPort(rabbit.tlsPort());
        plaintext.setConnectionTimeout(10_000);
        plaintext.setHandshakeTimeout(10_000);
        assertThatThrownBy(() -> plaintext.newConnection().close()).isInstanceOf(IOException.class)
                .satisfies(e -> assertThat(rootMessage(e)).contains("MalformedFrameException")); // a TLS alert
        awaitLogged("generated SERVER ALERT: Fatal - Unexpected Message", "{unsupported_record_type,65}");

        // And there is no plaintext listener at all: one AMQP listener, TLS, on loopback.
        String status = rabbit.rabbitmqctl("status", "--formatter", "json");
        assertThat(values(status, "protocol")).containsExactlyInAnyOrder("amqp/ssl", "clustering");
        assertThat(values(status, "interface")).containsOnly("127.0.0.1");
    }

    /** The node refuses a TLS 1.2 ClientHello with a protocol_version alert, and logs that alert. */
    @Test
    void refusesTls12Client() throws Exception {
        try (SSLSocket socket = ClientTls.connect(
                ClientTls.context(Optional.of(rabbit.clientCertificate("worker")), CA.rootCertificate()),
                rabbit.host(), rabbit.tlsPort(), RabbitClients.TIMEOUT, "TLSv1.2")) {
            assertThatThrownBy(socket::startHandshake).isInstanceOf(SSLException.class)
                    .hasMessageContaining("protocol_version");
        }
        awaitLogged("generated SERVER ALERT: Fatal - Protocol Version");
    }

    @Test
    void refusesClientWithoutCertificate() throws Exception {
        ConnectionFactory factory = RabbitClients.factory(rabbit, "jobs", Optional.empty(), CA.rootCertificate());
        assertThatThrownBy(() -> factory.newConnection().close()).isInstanceOf(IOException.class)
                .satisfies(e -> assertThat(rootMessage(e)).containsAnyOf("certificate_required", "Connection reset"));
        awaitLogged("Certificate required");
    }

    @Test
    void refusesCertificateFromAnotherCa() throws Exception {
        DevCertificateAuthority other = DevCertificateAuthority.create("rabbit.test");
        ConnectionFactory factory = RabbitClients.factory(rabbit, "jobs",
                Optional.of(other.leaf("worker").client().issue()), CA.rootCertificate());
        assertThatThrownBy(() -> factory.newConnection().close()).isInstanceOf(IOException.class)
                .satisfies(e -> assertThat(rootMessage(e)).containsAnyOf("unknown_ca", "Connection reset"));
        awaitLogged("Unknown CA");
    }

    @Test
    void refusesCertificateOfAServiceWithNoUser() {
        assertThatThrownBy(() -> RabbitClients.connect(rabbit, "jobs", "stranger").close())
                .isInstanceOf(AuthenticationFailureException.class).hasMessageContaining("EXTERNAL");
    }

    @Test
    void refusesPlainLoginAsGuest() throws Exception {
        ConnectionFactory factory = RabbitClients.factory(rabbit, "jobs",
                Optional.of(rabbit.clientCertificate("worker")), CA.rootCertificate());
        factory.setUsername("guest");
        factory.setPassword("guest");
        factory.setSaslConfig(offered -> new PlainMechanism()); // insist on PLAIN, whatever the node offers
        assertThatThrownBy(() -> factory.newConnection().close())
                .isInstanceOf(PossibleAuthenticationFailureException.class);
        awaitLogged("invalid authentication mechanism 'PLAIN'"); // the node refused it, not the client

        assertThat(users()).contains(WORKER, BILLING).doesNotContain("guest")
                .allMatch(user -> user.startsWith("spiffe://rabbit.test/"));
        assertThatThrownBy(() -> rabbit.rabbitmqctl("authenticate_user", "guest", "guest"))
                .isInstanceOf(TestkitException.class);
    }

    @Test
    void passwordlessUserCannotLogInWithAnyPassword() {
        for (String password : new String[] {"", "guest", WORKER}) {
            assertThatThrownBy(() -> rabbit.rabbitmqctl("authenticate_user", WORKER, password))
                    .isInstanceOf(TestkitException.class).hasMessageContaining("authenticate_user");
        }
    }

    @Test
    void exportsAndImportsDefinitions() {
        assertThat(rabbit.exportDefinitions()).contains(WORKER).contains("\"topic_permissions\"");
        String late = rabbit.userName("late");
        rabbit.importDefinitions("""
                {"users": [{"name": "%s", "password_hash": "", "tags": []}],
                 "permissions": [{"user": "%s", "vhost": "jobs", "configure": "", "write": "", "read": "^q\\\\."}]}
                """.formatted(late, late));
        assertThat(users()).contains(late);
        assertThat(rabbit.rabbitmqctl("list_permissions", "-p", "jobs")).contains(late + "\t\t\t^q\\.");
    }

    /**
     * Waits until the node's log has said each of {@code texts} (why it refused a client): for the
     * refusals the broker makes itself, its log is the audit record.
     */
    private static void awaitLogged(String... texts) throws Exception {
        long deadline = System.nanoTime() + RabbitClients.TIMEOUT.toNanos();
        for (String text : texts) {
            while (!Files.readString(rabbit.logFile()).contains(text)) {
                assertThat(System.nanoTime()).as("the node's log to say %s:%n%s", text,
                        ServerDirectory.tail(rabbit.logFile(), 20)).isLessThan(deadline);
                Thread.sleep(50);
            }
        }
    }

    private static Set<String> users() {
        return values(rabbit.rabbitmqctl("list_users", "--formatter", "json"), "user");
    }

    /** Every string value of {@code key} in a JSON document. */
    private static Set<String> values(String json, String key) {
        Set<String> values = new TreeSet<>();
        Matcher matcher = Pattern.compile("\"" + key + "\"\\s*:\\s*\"([^\"]*)\"").matcher(json);
        while (matcher.find()) {
            values.add(matcher.group(1));
        }
        return values;
    }

    /** Runs {@code action}, which must fail because the broker closed {@code channel}; returns why it did. */
    private static AMQP.Channel.Close closedBy(Channel channel, ThrowingCallable action) {
        assertThat(catchThrowable(action)).isNotNull();
        assertThat(channel.isOpen()).isFalse();
        return (AMQP.Channel.Close) channel.getCloseReason().getReason();
    }

    private static String rootMessage(Throwable e) {
        StringBuilder messages = new StringBuilder();
        for (Throwable each = e; each != null; each = each.getCause()) {
            messages.append(each).append(" / ");
        }
        return messages.toString();
    }
}
