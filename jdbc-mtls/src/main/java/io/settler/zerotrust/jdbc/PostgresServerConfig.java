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

/**
 * PostgreSQL server configuration rendered from the core {@link Policy}: who may connect to the
 * database service, from where, as which role, with which privileges; and a drift check against a
 * live server.
 *
 * <pre>{@code
 * PostgresServerConfig config = PostgresServerConfig.builder(policy, "orders_db")
 *         .database("orders").tenantTable("orders").build();
 * config.hbaLines();    // hostssl orders api 10.0.0.0/8 cert map=zerotrust ... then reject
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
 * refused rather than widened. Immutable and thread-safe.
 */
public final class PostgresServerConfig {

    /** The scope that grants SELECT. */
    public static final String READ_SCOPE = "db:read";
    /** The scope that grants INSERT, UPDATE and DELETE (and SELECT). */
    public static final String WRITE_SCOPE = "db:write";
    private static final Pattern IDENTIFIER = Pattern.compile("[a-z_][a-z0-9_]{0,62}");
    private static final String POLICY_NAME = "tenant_isolation";
    private static final String SCHEMA = "\"public\"";

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
        return roles().stream().map(role -> new IdentMapping(roles.get(role).identity().toString(), role)).toList();
    }

    /**
     * The SQL to run as an administrator in the database: login roles without superuser, BYPASSRLS,
     * CREATEDB or CREATEROLE; CONNECT and the scope's privileges; read-only defaults; row-level
     * security enabled, forced, with the tenant policy on each tenant table. Idempotent.
     */
    public String sql() {
        StringBuilder sql = new StringBuilder();
        for (String name : roles.keySet().stream().sorted().toList()) {
            Access access = roles.get(name);
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

    /** The roles this configuration admits. */
    public List<String> roles() {
        return roles.keySet().stream().sorted().toList();
    }

    /**
     * Compares this configuration with a live server: the pg_hba.conf rules and pg_ident.conf
     * mappings in its files ({@code pg_hba_file_rules}, {@code pg_ident_file_mappings}, PostgreSQL
     * 15 or newer), the roles' flags and defaults, the tenant tables' row-level
     * security and owners, and the roles' privileges. A difference is recorded as a WARNING audit
     * event.
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

    private void checkHba(Connection admin, List<String> differences) throws SQLException {
        List<HbaRule> expected = new ArrayList<>(rules);
        try (Statement statement = admin.createStatement();
             ResultSet rows = statement.executeQuery("select line_number, type, database, user_name, address,"
                     + " netmask, auth_method, options, error from pg_hba_file_rules where type <> 'local'"
                     + " order by line_number")) {
            while (rows.next()) {
                int line = rows.getInt(1);
                if (rows.getString(9) != null) {
                    differences.add("pg_hba.conf line " + line + " has an error: " + rows.getString(9));
                    continue;
                }
                List<String> databases = strings(rows.getArray(3));
                List<String> users = strings(rows.getArray(4));
                String method = rows.getString(7);
                Optional<HbaRule> ours = expected.stream().filter(rule -> {
                    try {
                        return matches(rule, rows, databases, users, method);
                    } catch (SQLException e) {
                        return false;
                    }
                }).findFirst();
                if (ours.isPresent()) {
                    expected.remove(ours.get());
                    continue;
                }
                boolean concernsUs = (databases.contains(database) || databases.contains("all"))
                        && (users.contains("all") || users.stream().anyMatch(roles::containsKey));
                if (concernsUs && !"reject".equals(method)) {
                    differences.add("pg_hba.conf line " + line + " (" + rows.getString(2) + " " + databases + " "
                            + users + " " + rows.getString(5) + " " + method + ") admits a connection the policy"
                            + " does not");
                }
            }
        }
        for (HbaRule missing : expected) {
            differences.add("pg_hba.conf lacks: " + missing.line(database, identMap));
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

    private boolean matches(HbaRule rule, ResultSet row, List<String> databases, List<String> users, String method)
            throws SQLException {
        if (!"hostssl".equals(row.getString(2)) || !"cert".equals(method)
                || !databases.equals(List.of(database)) || !users.equals(List.of(rule.role()))
                || !strings(row.getArray(8)).contains("map=" + identMap)) {
            return false;
        }
        String address = row.getString(5);
        if (rule.network().isEmpty()) {
            return "all".equals(address);
        }
        if (address == null || row.getString(6) == null) {
            return false;
        }
        try {
            Cidr network = rule.network().get();
            return IpAddressLiteral.parse(address).equals(network.network())
                    && prefixLength(IpAddressLiteral.parse(row.getString(6))) == network.prefixLength();
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
                + " rolcreaterole, rolcreatedb, coalesce(array_to_string(rolconfig, ','), '') from pg_roles"
                + " where rolname = ?")) {
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
                    String[] flags = {"SUPERUSER", "BYPASSRLS", "CREATEROLE", "CREATEDB"};
                    for (int i = 0; i < flags.length; i++) {
                        if (row.getBoolean(i + 2)) {
                            differences.add("role " + role + " has " + flags[i]);
                        }
                    }
                    boolean readOnlyDefault = Arrays.asList(row.getString(6).split(","))
                            .contains("default_transaction_read_only=on");
                    if (!roles.get(role).write() && !readOnlyDefault) {
                        differences.add("role " + role + " holds db:read only but does not default to read-only"
                                + " transactions");
                    }
                }
            }
        }
    }

    private void checkTables(Connection admin, List<String> differences) throws SQLException {
        try (PreparedStatement select = admin.prepareStatement("select c.relrowsecurity, c.relforcerowsecurity,"
                + " pg_get_userbyid(c.relowner), exists (select 1 from pg_policy p where p.polrelid = c.oid"
                + " and p.polname = '" + POLICY_NAME + "') from pg_class c where c.oid = to_regclass(?)");
             PreparedStatement privilege = admin.prepareStatement("select has_table_privilege(?, ?, 'SELECT'),"
                     + " has_table_privilege(?, ?, 'INSERT') or has_table_privilege(?, ?, 'UPDATE')"
                     + " or has_table_privilege(?, ?, 'DELETE') or has_table_privilege(?, ?, 'TRUNCATE')")) {
            for (String table : tenantTables) {
                select.setString(1, qualified(table));
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
                    if (roles.containsKey(row.getString(3))) {
                        differences.add("table " + table + " is owned by the application role " + row.getString(3));
                    }
                    if (!row.getBoolean(4)) {
                        differences.add("table " + table + " lacks the policy " + POLICY_NAME);
                    }
                }
                for (String role : roles()) {
                    for (int i = 1; i <= 10; i += 2) {
                        privilege.setString(i, role);
                        privilege.setString(i + 1, table);
                    }
                    try (ResultSet row = privilege.executeQuery()) {
                        row.next();
                        Access access = roles.get(role);
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
        private String database;
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
