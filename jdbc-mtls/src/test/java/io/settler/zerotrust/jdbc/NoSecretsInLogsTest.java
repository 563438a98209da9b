package io.settler.zerotrust.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.read.ListAppender;
import io.settler.zerotrust.pki.IssuedCertificate;
import io.settler.zerotrust.testkit.LocalPostgres;
import io.settler.zerotrust.testkit.TlsPostgres;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Base64;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * Everything logged while a pool starts (HikariCP's DEBUG configuration dump included), serves,
 * refuses and closes carries no key material and no password: the driver is given no secret at all.
 */
@TlsPostgres
class NoSecretsInLogsTest {

    private static final String APP = "jd_logs";

    private final LocalPostgres postgres;
    private final ListAppender<ILoggingEvent> captured = new ListAppender<>();
    private Logger root;

    NoSecretsInLogsTest(LocalPostgres postgres) {
        this.postgres = postgres;
    }

    @BeforeAll
    static void createRole(LocalPostgres postgres) {
        postgres.createRole(APP);
        postgres.createDatabase(APP, APP);
    }

    @BeforeEach
    void capture() {
        root = ((LoggerContext) LoggerFactory.getILoggerFactory()).getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        root.setLevel(Level.DEBUG);
        captured.start();
        root.addAppender(captured);
    }

    @AfterEach
    void stopCapture() {
        root.detachAppender(captured);
    }

    @Test
    void poolLifecycleLogsNoKeyMaterialOrPassword() throws SQLException {
        IssuedCertificate certificate = postgres.clientCertificate(APP);
        try (PostgresMtlsDataSource dataSource = Fixtures.builder(postgres, APP, APP).build();
             Connection connection = dataSource.getConnection()) {
            connection.createStatement().execute("select 1");
        }
        assertThatThrownBy(() -> Fixtures.builder(postgres, APP, APP).property("sslpassword", "hunter2-secret").build())
                .isInstanceOf(InsecureDataSourceException.class);

        List<String> lines = captured.list.stream().map(NoSecretsInLogsTest::render).toList();
        String all = String.join("\n", lines);
        assertThat(all).contains("dataSourceProperties"); // the HikariCP dump was captured
        String keyBase64 = Base64.getEncoder().encodeToString(certificate.privateKey().getEncoded());
        assertThat(all)
                .doesNotContain("PRIVATE KEY")
                .doesNotContain(keyBase64.substring(0, 40))
                .doesNotContain("hunter2-secret");
        assertThat(lines.stream().filter(l -> l.toLowerCase().contains("password")).collect(Collectors.toList()))
                .allSatisfy(l -> assertThat(l).containsAnyOf("<masked>", "sslpassword' is refused", "password....."));
    }

    private static String render(ILoggingEvent event) {
        String text = event.getFormattedMessage() + " " + event.getKeyValuePairs();
        return event.getThrowableProxy() == null ? text
                : text + "\n" + ThrowableProxyUtil.asString(event.getThrowableProxy());
    }
}
