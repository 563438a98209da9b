package io.settler.zerotrust.policy;

import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * Names a service may not take, because the server configuration rendered from a {@link Policy}
 * would read them as something other than one service: each service becomes a PostgreSQL role and a
 * Redis ACL user of the same name. {@code all} in {@code pg_hba.conf} is every role, {@code public}
 * in a GRANT is every role, {@code ALTER ROLE all ...} changes every role of the cluster, and
 * {@code default} is Redis's built-in user. Quoting guards the rendered files too; refusing the
 * names keeps a policy from ever meaning two things.
 *
 * <p>Reserved: the PostgreSQL 15 reserved key words ({@code pg_get_keywords()} with category
 * {@code R} or {@code T}, e.g. {@code all}, {@code user}, {@code current_user}); the role names
 * PostgreSQL itself refuses ({@code public}, {@code none}, anything starting with {@code pg_});
 * the {@code pg_hba.conf} / {@code pg_ident.conf} key words ({@code all}, {@code sameuser},
 * {@code samerole}, {@code samegroup}, {@code replication}; a leading {@code +} or {@code @} is
 * not a valid service name anyway); {@code postgres}, the bootstrap superuser of a default
 * cluster; and Redis's {@code default} user. Immutable.
 */
public final class ReservedNames {

    /** {@code select word from pg_get_keywords() where catcode in ('R', 'T')}, PostgreSQL 15. */
    private static final Set<String> SQL_RESERVED = Set.of(
            "all", "analyse", "analyze", "and", "any", "array", "as", "asc", "asymmetric", "both", "case", "cast",
            "check", "collate", "column", "constraint", "create", "current_catalog", "current_date",
            "current_role", "current_time", "current_timestamp", "current_user", "default", "deferrable", "desc",
            "distinct", "do", "else", "end", "except", "false", "fetch", "for", "foreign", "from", "grant", "group",
            "having", "in", "initially", "intersect", "into", "lateral", "leading", "limit", "localtime",
            "localtimestamp", "not", "null", "offset", "on", "only", "or", "order", "placing", "primary",
            "references", "returning", "select", "session_user", "some", "symmetric", "table", "then", "to",
            "trailing", "true", "union", "unique", "user", "using", "variadic", "when", "where", "window", "with",
            "authorization", "binary", "collation", "concurrently", "cross", "current_schema", "freeze", "full",
            "ilike", "inner", "is", "isnull", "join", "left", "like", "natural", "notnull", "outer", "overlaps",
            "right", "similar", "tablesample", "verbose");

    /** Key words of the database and user fields of pg_hba.conf and of pg_ident.conf (PostgreSQL 15 and 16). */
    private static final Set<String> AUTHENTICATION_KEYWORDS = Set.of(
            "all", "sameuser", "samerole", "samegroup", "replication");

    /** Role names PostgreSQL refuses ("role name ... is reserved"). */
    private static final Set<String> POSTGRES_ROLES = Set.of("public", "none");

    private ReservedNames() {
    }

    /**
     * Why {@code name} may not name a service (or a database, table or column in rendered
     * configuration), if it may not.
     *
     * @param name the name to check, e.g. {@code api}
     * @return the reason, as a phrase that completes "it is ...", or empty if the name is free
     */
    public static Optional<String> reason(String name) {
        Objects.requireNonNull(name, "name");
        String lower = name.toLowerCase(Locale.ROOT);
        if (AUTHENTICATION_KEYWORDS.contains(lower) || lower.startsWith("+") || lower.startsWith("@")) {
            return Optional.of("a pg_hba.conf / pg_ident.conf key word (it would match other roles or databases)");
        }
        if (POSTGRES_ROLES.contains(lower)) {
            return Optional.of("a role name PostgreSQL reserves ('public' stands for every role)");
        }
        if (lower.startsWith("pg_")) {
            return Optional.of("in the pg_ prefix PostgreSQL reserves for its own roles");
        }
        if (lower.equals("postgres")) {
            return Optional.of("the bootstrap superuser of a default PostgreSQL cluster");
        }
        if (lower.equals("default")) {
            return Optional.of("Redis's built-in user and a PostgreSQL reserved word");
        }
        if (SQL_RESERVED.contains(lower)) {
            return Optional.of("a PostgreSQL reserved word");
        }
        return Optional.empty();
    }
}
