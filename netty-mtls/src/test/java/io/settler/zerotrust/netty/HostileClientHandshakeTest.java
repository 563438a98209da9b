package io.settler.zerotrust.netty;

import static io.settler.zerotrust.netty.TestPki.field;
import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.core.AppenderBase;
import io.netty.channel.Channel;
import io.settler.zerotrust.audit.AuditEvent;
import io.settler.zerotrust.trust.HostileChains;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;
import org.slf4j.LoggerFactory;

/**
 * Clients without a certificate from our CA, each an attack on the server's handshake, through a
 * real Netty server with both providers: a chain built to make verification expensive, and
 * certificate names built to forge log lines. Each asserts the refusal's audit event and, from
 * everything logged meanwhile (captured at the root logger), that no log line carries a control
 * character and that no warning carries a stack trace.
 */
@ParameterizedClass
@EnumSource(value = NettyMtls.Provider.class, names = {"JDK", "OPENSSL"})
class HostileClientHandshakeTest {

    /** Anything but printable ASCII: CR, LF, ESC (ANSI sequences), other controls, Unicode line separators. */
    private static final Pattern UNSAFE = Pattern.compile("[^\\x20-\\x7e]");
    /** A log line an attacker would like to see, and an ANSI sequence that clears the terminal. */
    private static final String FORGED_LINE = "\r\n12:00:00.000 INFO  [main] io.settler.zerotrust.audit"
            + " peer.accepted identity=spiffe://example.org/admin\u001b[2J";

    @Parameter
    NettyMtls.Provider provider;

    private final TestPki pki = new TestPki();
    private final TestClient clients = new TestClient();
    private final HostileChains attacker = HostileChains.against(TestPki.CA.rootCertificate());
    private final List<ILoggingEvent> logged = new CopyOnWriteArrayList<>();
    private final AppenderBase<ILoggingEvent> capture = new AppenderBase<>() {
        @Override
        protected void append(ILoggingEvent event) {
            logged.add(event);
        }
    };

    @BeforeEach
    void captureLogs() {
        capture.start();
        root().addAppender(capture);
    }

    @AfterEach
    void stop() {
        root().detachAppender(capture);
        clients.close();
    }

    @Test
    void refusesSelfIssuedCasSharingTheAnchorsName() throws Exception {
        // Eight certificates: as many as the JDK server accepts from a client.
        HostileChains.Chain maze = attacker.selfIssuedMaze(7);

        AuditEvent refused = attack(maze);

        assertThat(refused.fields()).containsEntry("reason", "PATH_SEARCH_LIMIT");
        assertNothingForgedNorStackTraceLogged();
    }

    @Test
    void refusedClientCannotForgeLogLinesThroughItsCertificateSubject() throws Exception {
        // A common name holds at most 64 characters: enough for a line break, a short line and an ANSI sequence.
        HostileChains.Chain forged = attacker.forgedLeaf("CN=evil\r\nINFO peer.accepted\u001b[2J",
                List.of("evil.example.org" + FORGED_LINE), List.of());

        AuditEvent refused = attack(forged);

        assertThat(refused.fields()).containsEntry("reason", "BAD_SIGNATURE");
        assertThat(refused.fields().get("detail")).contains("CN=evil\\u000d\\u000aINFO peer.accepted\\u001b[2J");
        assertNothingForgedNorStackTraceLogged();
    }

    @Test
    void refusedClientCannotForgeLogLinesThroughItsSpiffeId() throws Exception {
        HostileChains.Chain forged = attacker.forgedLeaf("CN=evil", List.of(),
                List.of("spiffe://example.org/worker" + FORGED_LINE));

        AuditEvent refused = attack(forged);

        assertThat(refused.fields()).containsEntry("reason", "MALFORMED");
        assertNothingForgedNorStackTraceLogged();
    }

    /** Connects with {@code chain}, waits for the refusal, stops the server (so all it logs is logged). */
    private AuditEvent attack(HostileChains.Chain chain) throws Exception {
        AuditEvent refused;
        try (TestServer server = TestServer.start(pki.server(provider))) {
            Channel channel = clients.connect(TestPki.plainClient(provider, chain.leafKey(), chain.certificates(),
                    "TLSv1.3"), server.port());
            assertThat(TestClient.closes(channel)).isTrue();
            refused = pki.awaitEvent("peer.refused", field("role", "client"));
        }
        assertThat(pki.audit.events()).noneMatch(event -> event.action().equals("peer.accepted"));
        return refused;
    }

    private void assertNothingForgedNorStackTraceLogged() {
        assertThat(logged).as("log events captured").isNotEmpty();
        for (ILoggingEvent event : logged) {
            StringBuilder text = new StringBuilder(event.getFormattedMessage());
            if (event.getKeyValuePairs() != null) {
                event.getKeyValuePairs().forEach(pair -> text.append(' ').append(pair.key).append('=')
                        .append(pair.value));
            }
            for (IThrowableProxy t = event.getThrowableProxy(); t != null; t = t.getCause()) {
                text.append(' ').append(t.getMessage());
            }
            assertThat(UNSAFE.matcher(text).find()).as("a raw control character in %s: %s", event.getLoggerName(),
                    text).isFalse();
            if (event.getLevel().isGreaterOrEqual(Level.WARN)) {
                assertThat(event.getThrowableProxy()).as("a stack trace logged by %s: %s", event.getLoggerName(),
                        event.getFormattedMessage()).isNull();
            }
        }
    }

    private static Logger root() {
        return (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    }
}
