package io.settler.zerotrust.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.settler.zerotrust.pki.DevCertificateAuthority;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A server of its own, with a CA that has an intermediate: start, use, close, nothing left. */
class LocalPostgresLifecycleTest {

    @Test
    void closeStopsTheServerAndRemovesItsDirectory() throws Exception {
        DevCertificateAuthority ca = DevCertificateAuthority.builder("lifecycle.test").withIntermediate().build();
        LocalPostgres postgres = LocalPostgres.builder(ca).start();
        ProcessHandle postmaster = postgres.process();
        Path directory = postgres.directory();
        int port = postgres.port();
        postgres.createRole("reader");
        postgres.createDatabase("books", "reader");
        try (Connection connection = postgres.connect("books", "reader");
             Statement statement = connection.createStatement();
             ResultSet row = statement.executeQuery("select current_user")) {
            assertThat(row.next()).isTrue();
            assertThat(row.getString(1)).isEqualTo("reader");
        }
        assertThat(postmaster.isAlive()).isTrue();
        assertThat(postmaster.descendants()).isNotEmpty();

        // An open connection must not keep the server alive: close uses a fast shutdown.
        Connection stillOpen = postgres.connect("books", "reader");
        postgres.close();
        stillOpen.close();

        assertThat(postmaster.isAlive()).isFalse();
        assertThat(directory).doesNotExist();
        assertThatThrownBy(() -> new Socket(InetAddress.getLoopbackAddress(), port).close())
                .isInstanceOf(ConnectException.class);
        assertThatThrownBy(() -> postgres.executeAsSuperuser("select 1")).isInstanceOf(IllegalStateException.class);
        postgres.close(); // idempotent
    }

    @Test
    void restartKeepsPortRolesAndDataAndCutsOpenConnections() throws Exception {
        DevCertificateAuthority ca = DevCertificateAuthority.create("lifecycle.test");
        try (LocalPostgres postgres = LocalPostgres.builder(ca).start()) {
            postgres.createRole("keeper");
            postgres.createDatabase("kept", "keeper");
            postgres.executeAsSuperuser("kept", "CREATE TABLE notes (n int); INSERT INTO notes VALUES (7);"
                    + " ALTER TABLE notes OWNER TO keeper");
            int port = postgres.port();
            Connection before = postgres.connect("kept", "keeper");

            postgres.restart();

            assertThat(postgres.port()).isEqualTo(port);
            assertThatThrownBy(() -> before.createStatement().executeQuery("select 1"))
                    .isInstanceOf(SQLException.class);
            before.close();
            try (Connection connection = postgres.connect("kept", "keeper");
                 ResultSet row = connection.createStatement().executeQuery("select n from notes")) {
                assertThat(row.next()).isTrue();
                assertThat(row.getInt(1)).isEqualTo(7);
            }
        }
    }

    @Test
    void replacedAuthenticationAdmitsOnlyTheGivenRoleThroughItsIdentMap() throws Exception {
        try (LocalPostgres postgres = LocalPostgres.builder(DevCertificateAuthority.create("lifecycle.test")).start()) {
            createMappedAndUnlistedRoles(postgres);
            postgres.replaceAuthentication(HBA, IDENT);
            assertOnlyTheMappedRoleIsAdmitted(postgres);
        }
    }

    @Test
    void startsWithTheGivenAuthenticationFromItsFirstMoment() throws Exception {
        try (LocalPostgres postgres = LocalPostgres.builder(DevCertificateAuthority.create("lifecycle.test"))
                .authentication(HBA, IDENT).start()) {
            createMappedAndUnlistedRoles(postgres);
            assertOnlyTheMappedRoleIsAdmitted(postgres);
        }
    }

    private static final List<String> HBA = List.of("hostssl hba mapped 127.0.0.1/32 cert map=testmap");
    private static final List<String> IDENT = List.of("testmap \"spiffe://lifecycle.test/mapped\" mapped");

    private static void createMappedAndUnlistedRoles(LocalPostgres postgres) {
        postgres.createRole("mapped");
        postgres.createRole("unlisted");
        postgres.createDatabase("hba", "mapped");
        postgres.executeAsSuperuser("GRANT CONNECT ON DATABASE hba TO unlisted");
    }

    private static void assertOnlyTheMappedRoleIsAdmitted(LocalPostgres postgres) throws SQLException {
        try (Connection connection = postgres.connect("hba", "mapped");
             ResultSet row = connection.createStatement().executeQuery("select current_user")) {
            assertThat(row.next()).isTrue();
            assertThat(row.getString(1)).isEqualTo("mapped");
        }
        assertThatThrownBy(() -> postgres.connect("hba", "unlisted").close())
                .isInstanceOf(SQLException.class).hasMessageContaining("pg_hba.conf rejects connection");
    }
}
