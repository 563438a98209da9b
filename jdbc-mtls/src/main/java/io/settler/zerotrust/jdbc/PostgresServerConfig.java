package io.settler.zerotrust.jdbc;

import io.settler.zerotrust.audit.AuditEvent;
import io.settler.zerotrust.audit.AuditLog;
import io.settler.zerotrust.audit.LogSafe;
import io.settler.zerotrust.authz.PeerRule;
import io.settler.zerotrust.identity.ServiceIdentity;
import io.settler.zerotrust.jdbc.ServerConfigException.Reason;
import io.settler.zerotrust.network.Cidr;
import io.settler.zerotrust.network.IpAddressLiteral;
import io.settler.zerotrust.policy.Policy;
import io.settler.zerotrust.policy.ReservedNames;
import io.settler.zerotrust.policy.ServicePolicy;
import java.net.InetAddress;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * PostgreSQL server configuration rendered from the core {@link Policy}: who may connect to the
 * database service, from where, as which role, with which privileges; and a drift check against a
 * live server.
 *
 * <pre>{@code
 * PostgresServerConfig config = PostgresServerConfig.builder(policy, "orders_db")
 *         .database("orders").tenantTable("orders").build();
 * config.hbaLines();    // hostssl "orders" "api" 10.0.0.0/8 cert map=zerotrust ... then reject
 * config.identLines();  // zerotrust "spiffe://example.org/api" "api"
 * config.sql();         // roles, GRANTs, FORCE ROW LEVEL SECURITY and the tenant policy
 * config.drift(adminConnection).differences();
 * }</pre>
 *
 * <p>Each service the database service accepts by exact identity ({@code acceptService}) becomes a
 * login role of the same name, admitted by {@code hostssl ... cert} from the policy's networks
 * (all addresses if none); {@code pg_ident.conf} maps the certificate whose subject CN is exactly
 * the service's SPIFFE ID to that role (PostgreSQL cannot read a URI SAN; a CN holds at most 64
 * characters, so longer identities are refused).
 * Its scopes become privileges on the tenant tables: {@code db:read} is SELECT, {@code db:write}
 * adds INSERT, UPDATE and DELETE; a role with {@code db:read} only also defaults to read-only
 * transactions. Rules pg_hba.conf cannot express exactly (a trust domain, a path prefix) are
 * refused rather than widened.
 *
 * <p>Every identifier in the rendered files and SQL is quoted, and tables are qualified with
 * {@code "public"}; database, table and column names that would be key words anyway ({@code all},
 * {@code sameuser}, {@code public}, reserved words, {@code pg_*}: see {@link ReservedNames}) are
 * refused, as service names are when the policy is loaded. Immutable and thread-safe.
 */
public final class PostgresServerConfig {

    /** The scope that grants SELECT. */
    public static final String READ_SCOPE = "db:read";
    /** The scope that grants INSERT, UPDATE and DELETE (and SELECT). */
    public static final String WRITE_SCOPE = "db:write";
    private static final Pattern IDENTIFIER = Pattern.compile("[a-z_][a-z0-9_]{0,62}");
    private static final String POLICY_NAME = "tenant_isolation";
    private static final String SCHEMA = "\"public\"";

    /**
     * A tenant table's policies, with the expression ours deparses to (quote_ident, as pg_get_expr
     * does); parameters: the tenant column, the setting, the qualified table.
     */
    private static final String POLICIES = "select p.polname, p.polpermissive, p.polcmd::text,"
            + " p.polroles = '{0}'::oid[], coalesce(pg_get_expr(p.polqual, p.polrelid), ''),"
            + " coalesce(pg_get_expr(p.polwithcheck, p.polrelid), ''),"
            + " format('(%s = current_setting(%L::text, true))', quote_ident(?), ?)"
            + " from pg_policy p where p.polrelid = to_regclass(?) order by 1";

    /**
     * Roles a managed role can become (pg_has_role MEMBER: directly or through other roles, whether or
     * not it inherits) that get around row-level security or grants: superusers, BYPASSRLS, CREATEROLE
     * (which may grant itself other roles), and the predefined roles that read or write everything or
     * reach the server's files and programs.
     */
    private static final String PRIVILEGED_MEMBERSHIPS = "select g.rolname, case when g.rolsuper then 'is a superuser'"
            + " when g.rolbypassrls then 'has BYPASSRLS' when g.rolcreaterole then 'has CREATEROLE'"
            + " else 'reads or writes all data or the server''s files' end"
            + " from pg_roles r join pg_roles g on g.oid <> r.oid and pg_has_role(r.oid, g.oid, 'MEMBER')"
            + " where r.rolname = ? and (g.rolsuper or g.rolbypassrls or g.rolcreaterole or g.rolname in"
            + " ('pg_read_all_data', 'pg_write_all_data', 'pg_execute_server_program', 'pg_read_server_files',"
            + " 'pg_write_server_files')) order by 1";

    private final String database;
    private final String identMap;
    private final List<String> tenantTables;
    private final String tenantColumn;
    private final Map<String, Access> roles;
    private final List<HbaRule> rules;
    private final AuditLog audit;
    private final Clock clock;

    /** Who one role is (the identity its certificate names) and what it may do. */
    private record Access(ServiceIdentity identity, boolean read, boolean write) {
    }

    /** One pg_hba.conf line we render. */
    private record HbaRule(String role, Optional<Cidr> network) {
        String line(String database, String map) {
            return "hostssl " + quoted(database) + " " + quoted(role) + " " + network.map(Cidr::toString).orElse("all")
                    + " cert map=" + map;
        }
    }

    /** One pg_ident.conf line we render: the certificate's name, exactly, to one role. */
    private record IdentMapping(String systemName, String role) {
        String line(String map) {
            return map + " " + quoted(systemName) + " " + quoted(role);
        }
    }

    private PostgresServerConfig(Builder builder, String database, Map<String, Access> roles, List<HbaRule> rules) {
        this.database = database;
        this.identMap = builder.identMap;
        this.tenantTables = List.copyOf(builder.tenantTables);
        this.tenantColumn = builder.tenantColumn;
        this.roles = Map.copyOf(roles);
        this.rules = List.copyOf(rules);
        this.audit = builder.audit;
        this.clock = builder.clock;
    }

    /**
     * Starts rendering the configuration of {@code databaseService}, a service of {@code policy}.
     *
     * @param policy the policy
     * @param databaseService the name of the service that stands for the database
     * @return the builder
     */
    public static Builder builder(Policy policy, String databaseService) {
        return new Builder(policy, databaseService);
    }

    /**
     * The {@code pg_hba.conf} lines: one {@code hostssl ... cert} per role and network, then rejects for
     * everyone else.
     */
    public List<String> hbaLines() {
        List<String> lines = new ArrayList<>();
        for (HbaRule rule : rules) {
            lines.add(rule.line(database, identMap));
        }
        lines.add("hostssl all all all reject");
        lines.add("host all all all reject");
        return List.copyOf(lines);
    }

    /**
     * The {@code pg_ident.conf} lines: the certificate whose CN is exactly a service's SPIFFE ID (quoted,
     * so never a pattern or key word) maps to that service's role only, e.g.
     * {@code zerotrust "spiffe://example.org/api" "api"}. {@code spiffe://example.org/dev/api} is
     * another string and maps to nothing.
     */
    public List<String> identLines() {
        return identMappings().stream().map(mapping -> mapping.line(identMap)).toList();
    }

    private List<IdentMapping> identMappings() {
        return roles().stream().map(role -> new IdentMapping(access(role).identity().toString(), role)).toList();
    }

    /**
     * The SQL to run as an administrator in the database: login roles without superuser, BYPASSRLS,
     * CREATEDB or CREATEROLE; CONNECT and the scope's privileges; read-only defaults; row-level
     * security enabled, forced, with the tenant policy on each tenant table. Idempotent.
     */
    public String sql() {
        StringBuilder sql = new StringBuilder();
        for (String name : roles.keySet().stream().sorted().toList()) {
            Access access = access(name);
            String role = quoted(name);
            sql.append("DO $$ BEGIN CREATE ROLE ").append(role).append(" LOGIN;")
                    .append(" EXCEPTION WHEN duplicate_object THEN NULL; END $$;\n")
                    .append("ALTER ROLE ").append(role)
                    .append(" LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOREPLICATION;\n")
                    .append("GRANT CONNECT ON DATABASE ").append(quoted(database)).append(" TO ").append(role)
                    .append(";\n")
                    .append("GRANT USAGE ON SCHEMA ").append(SCHEMA).append(" TO ").append(role).append(";\n");
            for (String table : tenantTables) {
                String qualified = qualified(table);
                sql.append("REVOKE ALL ON ").append(qualified).append(" FROM ").append(role).append(";\n");
                if (access.read() || access.write()) {
                    sql.append("GRANT SELECT ON ").append(qualified).append(" TO ").append(role).append(";\n");
                }
                if (access.write()) {
                    sql.append("GRANT INSERT, UPDATE, DELETE ON ").append(qualified).append(" TO ").append(role)
                            .append(";\n");
                }
            }
            if (access.write()) {
                sql.append("GRANT USAGE ON ALL SEQUENCES IN SCHEMA ").append(SCHEMA).append(" TO ").append(role)
                        .append(";\n");
            }
            sql.append("ALTER ROLE ").append(role).append(access.write()
                    ? " RESET default_transaction_read_only;\n" : " SET default_transaction_read_only = on;\n");
        }
        for (String table : tenantTables) {
            String qualified = qualified(table);
            String condition = "(" + quoted(tenantColumn) + " = current_setting('" + TenantScope.SETTING + "', true))";
            sql.append("ALTER TABLE ").append(qualified).append(" ENABLE ROW LEVEL SECURITY;\n")
                    .append("ALTER TABLE ").append(qualified).append(" FORCE ROW LEVEL SECURITY;\n")
                    .append("DROP POLICY IF EXISTS ").append(quoted(POLICY_NAME)).append(" ON ").append(qualified)
                    .append(";\n")
                    .append("CREATE POLICY ").append(quoted(POLICY_NAME)).append(" ON ").append(qualified)
                    .append(" USING ").append(condition).append(" WITH CHECK ").append(condition).append(";\n");
        }
        return sql.toString();
    }

    /** A checked name as a quoted identifier: never a key word, never more than one name. */
    private static String quoted(String identifier) {
        return '"' + identifier + '"';
    }

    /** A tenant table, schema-qualified so that no search_path can point the statements at another table. */
    private static String qualified(String table) {
        return SCHEMA + "." + quoted(table);
    }

    /** The access of {@code role}, one of {@link #roles()}. */
    private Access access(String role) {
        return Objects.requireNonNull(roles.get(role), "not a role of this configuration");
    }

    /** The roles this configuration admits. */
    public List<String> roles() {
        return roles.keySet().stream().sorted().toList();
    }

    /**
     * Compares this configuration with a live server: the pg_hba.conf rules and pg_ident.conf
     * mappings in its files ({@code pg_hba_file_rules}, {@code pg_ident_file_mappings}, PostgreSQL
     * 15 or newer), including other lines that reach a managed role through {@code all},
     * {@code +group} or a {@code local} socket; the roles' flags and defaults, and their membership
     * (direct or transitive) in superuser, BYPASSRLS, CREATEROLE or all-data roles or in a tenant
     * table's owner; the tenant tables' row-level security (enabled, forced, our policy unchanged, no
     * other permissive policy) and owners; and the roles' privileges. A difference is recorded as a
     * WARNING audit event.
     *
     * @param admin a connection to the database whose role may read {@code pg_hba_file_rules} and
     *     {@code pg_ident_file_mappings} (a superuser, or one granted SELECT on both views and
     *     EXECUTE on their functions)
     * @return the differences, empty when the server matches
     * @throws SQLException if the server cannot be read
     */
    public DriftReport drift(Connection admin) throws SQLException {
        List<String> differences = new ArrayList<>();
        checkHba(admin, differences);
        checkIdent(admin, differences);
        checkRoles(admin, differences);
        checkTables(admin, differences);
        if (!differences.isEmpty()) {
            audit.record(AuditEvent.builder(clock.instant(), "jdbc.config_drift", AuditEvent.Outcome.WARNING)
                    .field("database", database)
                    .field("differences", String.join("; ", differences))
                    .build());
        }
        return new DriftReport(differences);
    }

    /**
     * What {@link #drift(Connection)} found.
     *
     * @param differences one sentence per difference, empty when the server matches
     */
    public record DriftReport(List<String> differences) {
        /** Copies the list. */
        public DriftReport {
            differences = List.copyOf(differences);
        }

        /** Whether the server matches the configuration. */
        public boolean clean() {
            return differences.isEmpty();
        }
    }

    /** One line of {@code pg_hba_file_rules}, read before anything else is asked on the connection. */
    private record HbaRow(int line, String type, List<String> databases, List<String> users, String address,
                          String netmask, String method, List<String> options, String error) {
        String describe() {
            return type + " " + databases + " " + users + (address == null ? "" : " " + address) + " " + method;
        }
    }

    private void checkHba(Connection admin, List<String> differences) throws SQLException {
        List<HbaRow> lines = new ArrayList<>();
        try (Statement statement = admin.createStatement();
             ResultSet rows = statement.executeQuery("select line_number, type, database, user_name, address,"
                     + " netmask, auth_method, options, error from pg_hba_file_rules order by line_number")) {
            while (rows.next()) {
                lines.add(new HbaRow(rows.getInt(1), rows.getString(2), strings(rows.getArray(3)),
                        strings(rows.getArray(4)), rows.getString(5), rows.getString(6), rows.getString(7),
                        strings(rows.getArray(8)), rows.getString(9)));
            }
        }
        List<HbaRule> expected = new ArrayList<>(rules);
        for (HbaRow row : lines) {
            if (row.error() != null) {
                differences.add("pg_hba.conf line " + row.line() + " has an error: " + LogSafe.text(row.error()));
                continue;
            }
            Optional<HbaRule> ours = expected.stream().filter(rule -> matches(rule, row)).findFirst();
            if (ours.isPresent()) {
                expected.remove(ours.get());
                continue;
            }
            if ("reject".equals(row.method())) {
                continue;
            }
            List<String> reached = reachedRoles(admin, row);
            if (!reached.isEmpty()) {
                differences.add("pg_hba.conf line " + row.line() + " (" + LogSafe.text(row.describe())
                        + ") admits a connection the policy does not: it reaches the role(s) " + reached
                        + "; remove it or limit it to other roles");
            }
        }
        for (HbaRule missing : expected) {
            differences.add("pg_hba.conf lacks: " + missing.line(database, identMap));
        }
    }

    /**
     * The managed roles an hba line reaches in our database: by name, through {@code all}, through
     * {@code +group} (membership, direct or through other roles), and databases named {@code all},
     * {@code sameuser}, {@code samerole} or {@code samegroup}.
     */
    private List<String> reachedRoles(Connection admin, HbaRow row) throws SQLException {
        List<String> reached = new ArrayList<>();
        for (String role : roles()) {
            boolean database = row.databases().contains(this.database) || row.databases().contains("all")
                    || (row.databases().contains("sameuser") && role.equals(this.database))
                    || ((row.databases().contains("samerole") || row.databases().contains("samegroup"))
                    && isMember(admin, role, this.database));
            if (!database) {
                continue;
            }
            boolean user = row.users().contains("all") || row.users().contains(role);
            for (String name : row.users()) {
                user = user || (name.startsWith("+") && isMember(admin, role, name.substring(1)));
            }
            if (user) {
                reached.add(role);
            }
        }
        return reached;
    }

    /** Whether {@code role} is a member of {@code group}, directly or through other roles (may SET ROLE to it). */
    private static boolean isMember(Connection admin, String role, String group) throws SQLException {
        try (PreparedStatement select = admin.prepareStatement("select exists (select 1 from pg_roles r, pg_roles g"
                + " where r.rolname = ? and g.rolname = ? and pg_has_role(r.oid, g.oid, 'MEMBER'))")) {
            select.setString(1, role);
            select.setString(2, group);
            try (ResultSet row = select.executeQuery()) {
                row.next();
                return row.getBoolean(1);
            }
        }
    }

    private void checkIdent(Connection admin, List<String> differences) throws SQLException {
        List<IdentMapping> expected = new ArrayList<>(identMappings());
        try (Statement statement = admin.createStatement();
             ResultSet rows = statement.executeQuery("select line_number, map_name, sys_name, pg_username, error"
                     + " from pg_ident_file_mappings order by line_number")) {
            while (rows.next()) {
                if (rows.getString(5) != null) {
                    differences.add("pg_ident.conf line " + rows.getInt(1) + " has an error: " + rows.getString(5));
                    continue;
                }
                if (!identMap.equals(rows.getString(2))) {
                    continue;
                }
                IdentMapping found = new IdentMapping(rows.getString(3), rows.getString(4));
                if (!expected.remove(found)) {
                    differences.add("pg_ident.conf line " + rows.getInt(1) + " (" + LogSafe.text(found.line(identMap))
                            + ") maps a certificate the policy does not map to that role");
                }
            }
        }
        for (IdentMapping missing : expected) {
            differences.add("pg_ident.conf lacks: " + missing.line(identMap));
        }
    }

    private boolean matches(HbaRule rule, HbaRow row) {
        if (!"hostssl".equals(row.type()) || !"cert".equals(row.method())
                || !row.databases().equals(List.of(database)) || !row.users().equals(List.of(rule.role()))
                || !row.options().contains("map=" + identMap)) {
            return false;
        }
        if (rule.network().isEmpty()) {
            return "all".equals(row.address());
        }
        if (row.address() == null || row.netmask() == null) {
            return false;
        }
        try {
            Cidr network = rule.network().get();
            return IpAddressLiteral.parse(row.address()).equals(network.network())
                    && prefixLength(IpAddressLiteral.parse(row.netmask())) == network.prefixLength();
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    private static int prefixLength(InetAddress netmask) {
        int bits = 0;
        for (byte b : netmask.getAddress()) {
            bits += Integer.bitCount(b & 0xff);
        }
        return bits;
    }

    private void checkRoles(Connection admin, List<String> differences) throws SQLException {
        try (PreparedStatement select = admin.prepareStatement("select rolcanlogin, rolsuper, rolbypassrls,"
                + " rolcreaterole, rolcreatedb, rolreplication, coalesce(array_to_string(rolconfig, ','), '')"
                + " from pg_roles where rolname = ?");
             PreparedStatement memberships = admin.prepareStatement(PRIVILEGED_MEMBERSHIPS)) {
            for (String role : roles()) {
                select.setString(1, role);
                try (ResultSet row = select.executeQuery()) {
                    if (!row.next()) {
                        differences.add("role " + role + " does not exist");
                        continue;
                    }
                    if (!row.getBoolean(1)) {
                        differences.add("role " + role + " cannot log in");
                    }
                    String[] flags = {"SUPERUSER", "BYPASSRLS", "CREATEROLE", "CREATEDB", "REPLICATION"};
                    for (int i = 0; i < flags.length; i++) {
                        if (row.getBoolean(i + 2)) {
                            differences.add("role " + role + " has " + flags[i]);
                        }
                    }
                    boolean readOnlyDefault = Arrays.asList(row.getString(7).split(","))
                            .contains("default_transaction_read_only=on");
                    if (!access(role).write() && !readOnlyDefault) {
                        differences.add("role " + role + " holds db:read only but does not default to read-only"
                                + " transactions");
                    }
                }
                memberships.setString(1, role);
                try (ResultSet rows = memberships.executeQuery()) {
                    while (rows.next()) {
                        differences.add("role " + role + " is a member of " + LogSafe.text(rows.getString(1))
                                + " (directly or through other roles, so it may SET ROLE to it), which "
                                + rows.getString(2) + "; REVOKE that membership");
                    }
                }
            }
        }
    }

    private void checkTables(Connection admin, List<String> differences) throws SQLException {
        try (PreparedStatement select = admin.prepareStatement("select c.relrowsecurity, c.relforcerowsecurity,"
                + " pg_get_userbyid(c.relowner) from pg_class c where c.oid = to_regclass(?)");
             PreparedStatement policies = admin.prepareStatement(POLICIES);
             PreparedStatement privilege = admin.prepareStatement("select has_table_privilege(?, ?, 'SELECT'),"
                     + " has_table_privilege(?, ?, 'INSERT') or has_table_privilege(?, ?, 'UPDATE')"
                     + " or has_table_privilege(?, ?, 'DELETE') or has_table_privilege(?, ?, 'TRUNCATE')")) {
            for (String table : tenantTables) {
                select.setString(1, qualified(table));
                String owner;
                try (ResultSet row = select.executeQuery()) {
                    if (!row.next()) {
                        differences.add("table " + table + " does not exist");
                        continue;
                    }
                    if (!row.getBoolean(1)) {
                        differences.add("table " + table + " does not enable row-level security");
                    }
                    if (!row.getBoolean(2)) {
                        differences.add("table " + table + " does not force row-level security on its owner");
                    }
                    owner = row.getString(3);
                }
                checkOwner(admin, table, owner, differences);
                checkPolicies(policies, table, differences);
                for (String role : roles()) {
                    for (int i = 1; i <= 10; i += 2) {
                        privilege.setString(i, role);
                        privilege.setString(i + 1, qualified(table));
                    }
                    try (ResultSet row = privilege.executeQuery()) {
                        row.next();
                        Access access = access(role);
                        if (row.getBoolean(1) != (access.read() || access.write())) {
                            differences.add("role " + role + (row.getBoolean(1) ? " may" : " may not")
                                    + " SELECT from " + table + ", unlike its scopes");
                        }
                        if (row.getBoolean(2) && !access.write()) {
                            differences.add("role " + role + " may write to " + table + " without " + WRITE_SCOPE);
                        }
                    }
                }
            }
        }
    }

    /** The owner is not a managed role, and no managed role can become it (the owner may turn RLS off). */
    private void checkOwner(Connection admin, String table, String owner, List<String> differences)
            throws SQLException {
        if (roles.containsKey(owner)) {
            differences.add("table " + table + " is owned by the application role " + owner);
            return;
        }
        for (String role : roles()) {
            if (isMember(admin, role, owner)) {
                differences.add("role " + role + " is a member of " + LogSafe.text(owner) + ", the owner of table "
                        + table + ", so it may SET ROLE to it and turn row-level security off; REVOKE that"
                        + " membership");
            }
        }
    }

    /** Our policy exactly as rendered, and no other permissive policy (permissive policies are OR-ed). */
    private void checkPolicies(PreparedStatement policies, String table, List<String> differences)
            throws SQLException {
        policies.setString(1, tenantColumn);
        policies.setString(2, TenantScope.SETTING);
        policies.setString(3, qualified(table));
        boolean found = false;
        try (ResultSet row = policies.executeQuery()) {
            while (row.next()) {
                String name = row.getString(1);
                boolean permissive = row.getBoolean(2);
                String using = row.getString(5);
                String check = row.getString(6);
                String expected = row.getString(7);
                if (name.equals(POLICY_NAME)) {
                    found = true;
                    if (!permissive || !"*".equals(row.getString(3)) || !row.getBoolean(4)
                            || !using.equals(expected) || !check.equals(expected)) {
                        differences.add("the policy " + POLICY_NAME + " on table " + table + " is not the rendered"
                                + " one (" + (permissive ? "permissive" : "restrictive") + ", for "
                                + row.getString(3) + ", USING " + LogSafe.text(using) + ", WITH CHECK "
                                + LogSafe.text(check) + "); run the rendered SQL again");
                    }
                } else if (permissive) {
                    differences.add("table " + table + " has the extra permissive policy " + LogSafe.text(name)
                            + " (USING " + LogSafe.text(using) + "), which widens what each tenant sees;"
                            + " DROP POLICY it");
                }
            }
        }
        if (!found) {
            differences.add("table " + table + " lacks the policy " + POLICY_NAME);
        }
    }

    private static List<String> strings(Array array) throws SQLException {
        if (array == null) {
            return List.of();
        }
        Object[] values = (Object[]) array.getArray();
        return Arrays.stream(values).map(String::valueOf).toList();
    }

    /** Builds a {@link PostgresServerConfig}. Not thread-safe. */
    public static final class Builder {
        private final Policy policy;
        private final String databaseService;
        private @Nullable String database;
        private String identMap = "zerotrust";
        private final List<String> tenantTables = new ArrayList<>();
        private String tenantColumn = "tenant_id";
        private AuditLog audit = AuditLog.slf4j();
        private Clock clock = Clock.systemUTC();

        private Builder(Policy policy, String databaseService) {
            this.policy = Objects.requireNonNull(policy, "policy");
            this.databaseService = Objects.requireNonNull(databaseService, "databaseService");
        }

        /** The PostgreSQL database name (default: the database service's name). */
        public Builder database(String database) {
            this.database = Objects.requireNonNull(database, "database");
            return this;
        }

        /** The pg_ident.conf map name (default {@code zerotrust}). */
        public Builder identMap(String identMap) {
            this.identMap = Objects.requireNonNull(identMap, "identMap");
            return this;
        }

        /** A table (in {@code public}) whose rows belong to tenants: RLS forced, with the tenant policy. */
        public Builder tenantTable(String table) {
            tenantTables.add(Objects.requireNonNull(table, "table"));
            return this;
        }

        /** The tenant column of the tenant tables (default {@code tenant_id}). */
        public Builder tenantColumn(String column) {
            this.tenantColumn = Objects.requireNonNull(column, "tenantColumn");
            return this;
        }

        /** Where drift warnings go (default {@link AuditLog#slf4j()}). */
        public Builder auditLog(AuditLog audit) {
            this.audit = Objects.requireNonNull(audit, "audit");
            return this;
        }

        /** The clock of the audit events. */
        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /**
         * Renders the configuration.
         *
         * @throws ServerConfigException if the service is unknown, a name is not a plain identifier, or an
         *     accept rule cannot be expressed exactly; also recorded as a {@code jdbc.config_refused} audit event
         */
        public PostgresServerConfig build() {
            try {
                return render();
            } catch (ServerConfigException e) {
                audit.record(AuditEvent.builder(clock.instant(), "jdbc.config_refused", AuditEvent.Outcome.REFUSED)
                        .field("service", databaseService)
                        .field("reason", e.reason())
                        .field("detail", e.getMessage())
                        .build());
                throw e;
            }
        }

        private PostgresServerConfig render() {
            ServicePolicy service = policy.service(databaseService).orElseThrow(() -> new ServerConfigException(
                    Reason.UNKNOWN_SERVICE, "the policy has no service '" + databaseService + "'; defined: "
                    + policy.services().stream().map(ServicePolicy::name).toList()));
            String databaseName = identifier(database != null ? database : databaseService, "database");
            identifier(identMap, "identMap");
            identifier(tenantColumn, "tenantColumn");
            tenantTables.forEach(table -> identifier(table, "table"));
            Map<String, Access> roles = new LinkedHashMap<>();
            List<HbaRule> rules = new ArrayList<>();
            for (PeerRule rule : service.accepts()) {
                PeerRule.Exact exact;
                List<Cidr> networks = List.of();
                if (rule instanceof PeerRule.Exact e) {
                    exact = e;
                } else if (rule instanceof PeerRule.AllOf all && all.rules().size() == 2
                        && all.rules().get(0) instanceof PeerRule.Exact e
                        && all.rules().get(1) instanceof PeerRule.Networks n) {
                    exact = e;
                    networks = n.networks();
                } else {
                    throw new ServerConfigException(Reason.UNSUPPORTED_RULE, "service '" + databaseService
                            + "' accepts " + rule.describe() + ", which pg_hba.conf cannot express without"
                            + " admitting more; accept each client service by name (acceptService)");
                }
                ServicePolicy peer = policy.service(exact.identity()).orElseThrow(() -> new ServerConfigException(
                        Reason.UNSUPPORTED_RULE, "service '" + databaseService + "' accepts "
                        + exact.identity() + ", which is not a service of the policy, so it has no role"));
                String role = identifier(peer.name(), "service name (the role name)");
                CertificateRoleName.unrepresentable(peer.identity()).ifPresent(why -> {
                    throw new ServerConfigException(Reason.UNMAPPABLE_IDENTITY, "service '" + databaseService
                            + "' accepts '" + role + "', but " + why);
                });
                roles.put(role, new Access(peer.identity(), peer.mayHold(READ_SCOPE), peer.mayHold(WRITE_SCOPE)));
                if (networks.isEmpty()) {
                    rules.add(new HbaRule(role, Optional.empty()));
                } else {
                    networks.forEach(network -> rules.add(new HbaRule(role, Optional.of(network))));
                }
            }
            return new PostgresServerConfig(this, databaseName, roles, rules);
        }

        private static String identifier(String name, String what) {
            Objects.requireNonNull(name, what);
            if (!IDENTIFIER.matcher(name).matches()) {
                throw new ServerConfigException(Reason.INVALID_NAME, what + " '" + LogSafe.text(name)
                        + "' is not a plain lower-case PostgreSQL identifier ([a-z_][a-z0-9_]*, at most 63)");
            }
            ReservedNames.reason(name).ifPresent(why -> {
                throw new ServerConfigException(Reason.RESERVED_NAME, what + " '" + name + "' is " + why
                        + "; choose another name");
            });
            return name;
        }
    }
}
