package io.settler.zerotrust.jdbc;

import io.settler.zerotrust.audit.Refusal;
import java.util.Objects;

/**
 * The policy cannot be rendered as PostgreSQL configuration without widening it. The message says
 * what to change in the policy; {@link #reason()} says which rule refused.
 */
public final class ServerConfigException extends RuntimeException implements Refusal {

    private static final long serialVersionUID = 1L;

    /** Which rule refused. */
    public enum Reason {
        /** The database service is not in the policy. */
        UNKNOWN_SERVICE,
        /**
         * An accept rule pg_hba.conf cannot express exactly (a trust domain, a path prefix, any
         * peer): it would admit more than the policy says.
         */
        UNSUPPORTED_RULE,
        /** A service, database, table or column name that is not a plain PostgreSQL identifier. */
        INVALID_NAME,
        /**
         * A database, table, column or role name that pg_hba.conf, pg_ident.conf or SQL would read as
         * more than one name ({@code all}, {@code public}, {@code sameuser}, a reserved word, {@code pg_*}):
         * see {@link io.settler.zerotrust.policy.ReservedNames}.
         */
        RESERVED_NAME,
        /**
         * A service whose SPIFFE ID does not fit in a certificate's CN (64 characters), the only name
         * PostgreSQL's {@code cert} authentication can map to a role.
         */
        UNMAPPABLE_IDENTITY
    }

    private final Reason reason;

    ServerConfigException(Reason reason, String message) {
        super(message);
        this.reason = Objects.requireNonNull(reason, "reason");
    }

    /** The rule that refused. */
    @Override
    public Reason reason() {
        return reason;
    }
}
