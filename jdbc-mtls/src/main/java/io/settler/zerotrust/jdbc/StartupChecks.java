package io.settler.zerotrust.jdbc;

import io.settler.zerotrust.audit.AuditEvent;
import io.settler.zerotrust.audit.AuditLog;
import io.settler.zerotrust.audit.LogSafe;
import io.settler.zerotrust.credentials.CredentialSnapshot;
import io.settler.zerotrust.jdbc.InsecureDataSourceException.Reason;
import java.math.BigInteger;
import java.security.cert.X509Certificate;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;

/**
 * What a new pool proves on its first connection: the session is TLS 1.3 and the server saw our
 * client certificate ({@code pg_stat_ssl}); the role cannot get around row-level security; a
 * read-only pool's role cannot write.
 */
final class StartupChecks {

    private static final String POSTURE = "select s.ssl, s.version, s.client_serial::text, s.client_dn,"
            + " r.rolsuper, r.rolbypassrls, pg_catalog.current_setting('default_transaction_read_only')"
            + " from pg_catalog.pg_stat_ssl s join pg_catalog.pg_roles r on r.rolname = current_user where s.pid = pg_backend_pid()";

    /** Tables with row-level security that is not forced, owned by the role or by a role it can become. */
    private static final String UNFORCED_RLS = "select n.nspname || '.' || c.relname from pg_catalog.pg_class c"
            + " join pg_catalog.pg_namespace n on n.oid = c.relnamespace"
            + " where c.relkind in ('r', 'p') and c.relrowsecurity and not c.relforcerowsecurity"
            + " and pg_has_role(current_user, c.relowner, 'MEMBER') order by 1 limit 5";

    private static final String WRITABLE_TABLES = "select n.nspname || '.' || c.relname from pg_catalog.pg_class c"
            + " join pg_catalog.pg_namespace n on n.oid = c.relnamespace"
            + " where c.relkind in ('r', 'p') and n.nspname not in ('pg_catalog', 'information_schema')"
            + " and n.nspname not like 'pg_toast%'"
            + " and (has_table_privilege(c.oid, 'INSERT') or has_table_privilege(c.oid, 'UPDATE')"
            + " or has_table_privilege(c.oid, 'DELETE') or has_table_privilege(c.oid, 'TRUNCATE'))"
            + " order by 1 limit 5";

    private StartupChecks() {
    }

    static void verify(PostgresMtlsDataSource dataSource, CredentialSnapshot snapshot, boolean readOnly)
            throws SQLException {
        try (Connection connection = dataSource.getConnection(); Statement statement = connection.createStatement()) {
            String defaultReadOnly;
            try (ResultSet row = statement.executeQuery(POSTURE)) {
                if (!row.next()) {
                    throw new InsecureDataSourceException(Reason.TLS_POSTURE,
                            "pg_stat_ssl has no row for this session; the server must run with ssl = on");
                }
                checkTls(row.getBoolean(1), row.getString(2), row.getString(3), row.getString(4),
                        snapshot.identity().certificate());
                if (row.getBoolean(5)) {
                    throw new InsecureDataSourceException(Reason.ROLE_PRIVILEGES, "the role " + dataSource.role()
                            + " is a superuser, which ignores row-level security and every grant;"
                            + " connect as an ordinary role (ALTER ROLE ... NOSUPERUSER)");
                }
                if (row.getBoolean(6)) {
                    throw new InsecureDataSourceException(Reason.ROLE_PRIVILEGES, "the role " + dataSource.role()
                            + " has BYPASSRLS and sees every tenant's rows; ALTER ROLE ... NOBYPASSRLS");
                }
                defaultReadOnly = row.getString(7);
            }
            List<String> unforced = names(statement, UNFORCED_RLS);
            if (!unforced.isEmpty()) {
                throw new InsecureDataSourceException(Reason.ROLE_PRIVILEGES, "the role " + dataSource.role()
                        + " owns (or can become the owner of) tables whose row-level security does not apply to"
                        + " their owner: " + String.join(", ", unforced) + "; run ALTER TABLE ... FORCE ROW LEVEL"
                        + " SECURITY, and let another role own the tables");
            }
            if (readOnly) {
                if (!"on".equals(defaultReadOnly)) {
                    throw new InsecureDataSourceException(Reason.NOT_READ_ONLY, "the read-only pool's role "
                            + dataSource.role() + " does not default to read-only transactions; run ALTER ROLE "
                            + dataSource.role() + " SET default_transaction_read_only = on");
                }
                List<String> writable = names(statement, WRITABLE_TABLES);
                if (!writable.isEmpty()) {
                    throw new InsecureDataSourceException(Reason.NOT_READ_ONLY, "the read-only pool's role "
                            + dataSource.role() + " may write to " + String.join(", ", writable)
                            + "; grant it SELECT only");
                }
            }
        }
    }

    /** TLS 1.3, and the certificate the server saw is our current leaf (same serial, same subject CN). */
    static void checkTls(boolean ssl, String version, String serial, String clientDn, X509Certificate ours) {
        if (!ssl) {
            throw new InsecureDataSourceException(Reason.TLS_POSTURE, "pg_stat_ssl says this session is not"
                    + " encrypted; the server must require hostssl");
        }
        if (!"TLSv1.3".equals(version)) {
            throw new InsecureDataSourceException(Reason.TLS_POSTURE, "pg_stat_ssl says this session uses "
                    + LogSafe.text(String.valueOf(version)) + ", not TLSv1.3; set ssl_min_protocol_version = 'TLSv1.3'");
        }
        String expectedCn = commonName(ours);
        if (serial == null || !new BigInteger(serial).equals(ours.getSerialNumber())
                || clientDn == null || !clientDn.endsWith("/CN=" + expectedCn)) {
            throw new InsecureDataSourceException(Reason.TLS_POSTURE, "pg_stat_ssl shows client certificate "
                    + LogSafe.text(String.valueOf(clientDn)) + " serial " + LogSafe.text(String.valueOf(serial))
                    + ", not ours (CN=" + expectedCn + ", serial " + ours.getSerialNumber() + ")");
        }
    }

    static InsecureDataSourceException refuse(AuditLog audit, Clock clock, String pool, InsecureDataSourceException e) {
        audit.record(AuditEvent.builder(clock.instant(), "jdbc.refused", AuditEvent.Outcome.REFUSED)
                .field("pool", pool)
                .field("reason", e.reason())
                .field("detail", e.getMessage())
                .build());
        return e;
    }

    private static String commonName(X509Certificate certificate) {
        try {
            for (Rdn rdn : new LdapName(certificate.getSubjectX500Principal().getName()).getRdns()) {
                if (rdn.getType().equalsIgnoreCase("CN")) {
                    return String.valueOf(rdn.getValue());
                }
            }
        } catch (InvalidNameException e) {
            throw new IllegalStateException("our own certificate has an unparsable subject", e);
        }
        return "";
    }

    private static List<String> names(Statement statement, String sql) throws SQLException {
        List<String> names = new ArrayList<>();
        try (ResultSet rows = statement.executeQuery(sql)) {
            while (rows.next()) {
                names.add(rows.getString(1));
            }
        }
        return names;
    }
}
