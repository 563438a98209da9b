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

/**
 * What a new pool proves on its first connection: the session is TLS 1.3 and the server saw our
 * client certificate ({@code pg_stat_ssl}); the role cannot get around row-level security, neither
 * itself nor through a role it is a member of or can {@code SET ROLE} to; a read-only pool's role
 * cannot write.
 */
final class StartupChecks {

    private static final String POSTURE = "select s.ssl, s.version, s.client_serial::text, s.client_dn,"
            + " pg_catalog.current_setting('default_transaction_read_only'), current_user::text, session_user::text"
            + " from (select 1) one left join pg_catalog.pg_stat_ssl s on s.pid = pg_catalog.pg_backend_pid()";

    /** Predefined roles that read the server's files or run programs as the server: around every policy. */
    private static final List<String> SERVER_ACCESS_ROLES =
            List.of("pg_read_server_files", "pg_write_server_files", "pg_execute_server_program");

    /**
     * The login role and every role it can act as (MEMBER: directly or through other roles, whether it
     * inherits their privileges or must SET ROLE first) that can get around row-level security.
     */
    private static final String POWERS = "select r.rolname::text, r.rolname = session_user, r.rolsuper,"
            + " r.rolbypassrls, r.rolreplication, r.rolcreaterole, r.rolname in ('"
            + String.join("', '", SERVER_ACCESS_ROLES) + "')"
            + " from pg_catalog.pg_roles r where pg_catalog.pg_has_role(session_user, r.oid, 'MEMBER')"
            + " and (r.rolsuper or r.rolbypassrls or r.rolreplication or r.rolcreaterole or r.rolname in ('"
            + String.join("', '", SERVER_ACCESS_ROLES) + "'))"
            + " order by r.rolname = session_user desc, r.rolname limit 5";

    /**
     * Tables with row-level security (or policies) owned by the role or by a role it can become: an
     * owner is exempt unless the table is forced, and can switch it off or drop the policy anyway.
     */
    private static final String OWNED_RLS = "select n.nspname || '.' || c.relname from pg_catalog.pg_class c"
            + " join pg_catalog.pg_namespace n on n.oid = c.relnamespace"
            + " where c.relkind in ('r', 'p') and pg_catalog.pg_has_role(session_user, c.relowner, 'MEMBER')"
            + " and (c.relrowsecurity or exists (select from pg_catalog.pg_policy p where p.polrelid = c.oid))"
            + " order by 1 limit 5";

    /** Tables the role can use whose policies are not enforced, because row-level security is off. */
    private static final String POLICIES_OFF = "select n.nspname || '.' || c.relname from pg_catalog.pg_class c"
            + " join pg_catalog.pg_namespace n on n.oid = c.relnamespace"
            + " where c.relkind in ('r', 'p') and not c.relrowsecurity"
            + " and exists (select from pg_catalog.pg_policy p where p.polrelid = c.oid)"
            + " and pg_catalog.has_table_privilege(session_user, c.oid, 'SELECT, INSERT, UPDATE, DELETE')"
            + " order by 1 limit 5";

    /**
     * Views and materialized views the role can read that show a row-level secured table they refer
     * to directly without its policies: a view checks them as its owner (unless security_invoker),
     * and an owner that is a superuser, has BYPASSRLS or owns the unforced table is exempt; a
     * materialized view holds whatever its owner saw at refresh, with no policies at all.
     */
    private static final String VIEWS_AROUND_RLS = "select distinct vn.nspname || '.' || v.relname"
            + " from pg_catalog.pg_class v join pg_catalog.pg_namespace vn on vn.oid = v.relnamespace"
            + " join pg_catalog.pg_roles o on o.oid = v.relowner"
            + " join pg_catalog.pg_rewrite rw on rw.ev_class = v.oid"
            + " join pg_catalog.pg_depend d on d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass"
            + " and d.objid = rw.oid and d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass"
            + " join pg_catalog.pg_class t on t.oid = d.refobjid and t.oid <> v.oid and t.relrowsecurity"
            + " where v.relkind in ('v', 'm') and pg_catalog.has_table_privilege(session_user, v.oid, 'SELECT')"
            + " and (v.relkind = 'm' or ((o.rolsuper or o.rolbypassrls"
            + " or (t.relowner = v.relowner and not t.relforcerowsecurity))"
            + " and not exists (select from pg_catalog.pg_options_to_table(v.reloptions) x"
            + " where x.option_name = 'security_invoker' and x.option_value::bool)))"
            + " order by 1 limit 5";

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
                row.next();
                // First: as another role, pg_stat_ssl hides this session's row.
                if (!row.getString(6).equals(row.getString(7))) {
                    throw new InsecureDataSourceException(Reason.ROLE_PRIVILEGES, "the role " + dataSource.role()
                            + " starts its sessions as " + LogSafe.text(row.getString(6)) + " (ALTER ROLE ... SET"
                            + " role); run ALTER ROLE " + dataSource.role() + " RESET role");
                }
                if (row.getObject(1) == null) {
                    throw new InsecureDataSourceException(Reason.TLS_POSTURE,
                            "pg_stat_ssl has no row for this session; the server must run with ssl = on");
                }
                checkTls(row.getBoolean(1), row.getString(2), row.getString(3), row.getString(4),
                        snapshot.identity().certificate());
                defaultReadOnly = row.getString(5);
            }
            checkPowers(dataSource.role(), statement);
            List<String> owned = names(statement, OWNED_RLS);
            if (!owned.isEmpty()) {
                throw new InsecureDataSourceException(Reason.ROLE_PRIVILEGES, "the role " + dataSource.role()
                        + " owns (or can become the owner of) tables with row-level security: "
                        + String.join(", ", owned) + "; an owner is exempt from it unless it is forced, and can"
                        + " switch it off (ALTER TABLE ... NO FORCE / DISABLE ROW LEVEL SECURITY) or drop the policy."
                        + " Let another role own them");
            }
            List<String> off = names(statement, POLICIES_OFF);
            if (!off.isEmpty()) {
                throw new InsecureDataSourceException(Reason.ROLE_PRIVILEGES, "the role " + dataSource.role()
                        + " can use tables whose policies are not enforced: " + String.join(", ", off)
                        + "; run ALTER TABLE ... ENABLE ROW LEVEL SECURITY and FORCE ROW LEVEL SECURITY");
            }
            List<String> views = names(statement, VIEWS_AROUND_RLS);
            if (!views.isEmpty()) {
                throw new InsecureDataSourceException(Reason.ROLE_PRIVILEGES, "the role " + dataSource.role()
                        + " can read tables with row-level security through views that do not apply it: "
                        + String.join(", ", views) + "; ALTER VIEW ... SET (security_invoker = on), or let a role"
                        + " that is subject to the policies own the view; no materialized views over such tables");
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
                    + LogSafe.text(String.valueOf(version))
                    + ", not TLSv1.3; set ssl_min_protocol_version = 'TLSv1.3'");
        }
        String expectedCn = CertificateRoleName.commonNames(ours).stream().findFirst().orElse("");
        if (serial == null || !new BigInteger(serial).equals(ours.getSerialNumber())
                || clientDn == null || !clientDn.endsWith("/CN=" + expectedCn)) {
            throw new InsecureDataSourceException(Reason.TLS_POSTURE, "pg_stat_ssl shows client certificate "
                    + LogSafe.text(String.valueOf(clientDn)) + " serial " + LogSafe.text(String.valueOf(serial))
                    + ", not ours (CN=" + expectedCn + ", serial " + ours.getSerialNumber() + ")");
        }
    }

    /**
     * Refuses a login role that is, or is a member of (directly or through other roles, with or
     * without inheriting, able to SET ROLE), a role that gets around row-level security.
     */
    private static void checkPowers(String role, Statement statement) throws SQLException {
        List<String> found = new ArrayList<>();
        try (ResultSet rows = statement.executeQuery(POWERS)) {
            while (rows.next()) {
                List<String> powers = new ArrayList<>();
                if (rows.getBoolean(3)) {
                    powers.add("SUPERUSER (a superuser ignores row-level security and every grant)");
                }
                if (rows.getBoolean(4)) {
                    powers.add("BYPASSRLS (sees every tenant's rows)");
                }
                if (rows.getBoolean(5)) {
                    powers.add("REPLICATION (reads every row through a replication slot)");
                }
                if (rows.getBoolean(6)) {
                    powers.add("CREATEROLE (can grant itself the tables' owner or a BYPASSRLS role)");
                }
                if (rows.getBoolean(7)) {
                    powers.add("server file or program access (reads the tables' files)");
                }
                String name = rows.getString(1);
                found.add((rows.getBoolean(2) ? role + " itself has " : "it can become " + LogSafe.text(name)
                        + " (a member, or may SET ROLE to it), which has ") + String.join(", ", powers));
            }
        }
        if (!found.isEmpty()) {
            throw new InsecureDataSourceException(Reason.ROLE_PRIVILEGES, "the role " + role + " can get around"
                    + " row-level security: " + String.join("; ", found) + ". Connect as an ordinary role: ALTER ROLE "
                    + role + " NOSUPERUSER NOBYPASSRLS NOREPLICATION NOCREATEROLE, and REVOKE those roles from it"
                    + " (and from the roles it is a member of)");
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

    private static List<String> names(Statement statement, String sql) throws SQLException {
        List<String> names = new ArrayList<>();
        try (ResultSet rows = statement.executeQuery(sql)) {
            while (rows.next()) {
                names.add(LogSafe.text(rows.getString(1))); // object names are anyone's text
            }
        }
        return names;
    }
}
