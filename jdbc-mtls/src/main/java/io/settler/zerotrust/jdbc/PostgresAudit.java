package io.settler.zerotrust.jdbc;

import static io.settler.zerotrust.audit.AuditEvent.Outcome.INFO;
import static io.settler.zerotrust.audit.AuditEvent.Outcome.REFUSED;
import static io.settler.zerotrust.audit.AuditEvent.Outcome.WARNING;

import io.settler.zerotrust.audit.AuditAction;

/**
 * The audit catalogue of the jdbc-mtls module: pools started, refused and recycled, tenant scopes
 * refused, query-cancel requests refused, timeouts, and the server configuration's refusals and drift.
 */
@SuppressWarnings("ImmutableEnumChecker") // Definition is a record of strings and List.copyOf lists
public enum PostgresAudit implements AuditAction {

    /** A pool started: its first connection proved TLS 1.3, our certificate and a role bound by row-level security. */
    POOL_STARTED(AuditAction.define("jdbc.pool_started", INFO, "zerotrust.jdbc.pools")
            .fields("pool", "server", "role", "sslmode", "protocols", "read_only", "max_lifetime",
                    "connection_timeout", "statement_timeout", "socket_timeout", "fingerprint")
            .tags("role", "read_only", "reason")
            .describe("A PostgreSQL pool started after its start-up checks passed: verify-full TLS 1.3 with this"
                    + " service's certificate, and a role that cannot get around row-level security.")),
    /** A pool was refused at build, or a rotated certificate cannot be mapped to the role. */
    POOL_REFUSED(AuditAction.define("jdbc.refused", REFUSED, "zerotrust.jdbc.pools")
            .fields("pool", "reason", "detail").tags("role", "read_only", "reason")
            .describe("A PostgreSQL pool was refused (reason, detail): an insecure setting, a failed first connection"
                    + " or start-up check, or a certificate whose CN is not its SPIFFE ID; fix what detail names.")),
    /** Connections were soft-evicted after a credential rotation. */
    POOL_RECYCLED(AuditAction.define("jdbc.pool_recycled", INFO, "zerotrust.jdbc.recycles")
            .fields("pool", "phase", "generation", "fingerprint", "max_lifetime").tags("phase")
            .describe("The credentials rotated: the pool evicted its connections (phase rotated, then settled) so new"
                    + " ones present the new certificate.")),
    /** A tenant scope refused to run or commit work. */
    TENANT_REFUSED(AuditAction.define("jdbc.tenant_refused", REFUSED, "zerotrust.jdbc.tenant_scopes")
            .fields("pool", "tenant", "reason", "detail").tags("reason")
            .describe("A TenantScope rolled back work because a tenant or session state could cross between"
                    + " borrowers (reason); the connection was evicted: fix the code that set it.")),
    /** pgjdbc asked for a socket for a cleartext query-cancel request, and was refused. */
    CANCEL_REFUSED(AuditAction.define("jdbc.cancel_refused", REFUSED, "zerotrust.jdbc.cancel_requests")
            .fields("pool", "reason").tags("reason")
            .describe("pgjdbc tried to send a query-cancel request in cleartext (Statement.cancel or"
                    + " setQueryTimeout); it was refused: use statementTimeout instead.")),
    /** A read waited longer than its bound; the connection is evicted. */
    TIMEOUT(AuditAction.define("jdbc.timeout", WARNING, "zerotrust.jdbc.timeouts")
            .fields("pool", "server", "bound", "socket_timeout_seconds")
            .describe("PostgreSQL sent nothing within the socket timeout; the connection was closed and evicted:"
                    + " check the server, or raise statementTimeout for long statements.")),
    /** The policy cannot be rendered as PostgreSQL configuration without widening it. */
    CONFIG_REFUSED(AuditAction.define("jdbc.config_refused", REFUSED, "zerotrust.jdbc.server_configs")
            .fields("service", "reason", "detail").tags("service", "reason")
            .describe("PostgresServerConfig refused to render the policy (reason, detail): change the policy as"
                    + " detail says.")),
    /** A live server differs from the rendered configuration. */
    CONFIG_DRIFT(AuditAction.define("jdbc.config_drift", WARNING, "zerotrust.jdbc.config_drifts")
            .fields("database", "differences").tags("database")
            .describe("The server's pg_hba.conf, pg_ident.conf, roles, tables or privileges differ from the rendered"
                    + " configuration (differences): reapply it, or find who changed the server."));

    private final Definition definition;

    PostgresAudit(Definition definition) {
        this.definition = definition;
    }

    @Override
    public Definition definition() {
        return definition;
    }
}
