package io.settler.zerotrust.jdbc;

import io.settler.zerotrust.audit.Refusal;
import java.util.Objects;

/**
 * A {@link PostgresMtlsDataSource} was refused: its configuration would weaken verify-full mutual
 * TLS, or the server it reached does not prove what it must at start-up. The message says what to
 * fix; {@link #reason()} says which rule refused. Every refusal is also an audit event.
 */
public final class InsecureDataSourceException extends RuntimeException implements Refusal {

    private static final long serialVersionUID = 1L;

    /** Which rule refused the data source. */
    public enum Reason {
        /**
         * {@code sslmode} other than {@code verify-full}: {@code prefer} falls back to plaintext,
         * {@code require} trusts any server.
         */
        SSL_MODE,
        /** {@code ssl=false}, or a URL or property asking for no encryption at all. */
        PLAINTEXT,
        /** Another SSL socket factory (e.g. pgjdbc's {@code NonValidatingFactory}) or host name verifier than ours. */
        SSL_FACTORY,
        /**
         * Key, certificate, root or password files ({@code sslcert}, {@code sslkey}, {@code sslrootcert},
         * ...): ours come from the credential source.
         */
        KEY_FILES,
        /** A password, a {@code .pg_service.conf} service or another way around certificate authentication. */
        PASSWORD_AUTHENTICATION,
        /** A socket factory, GSS encryption or another transport setting that bypasses ours. */
        TRANSPORT,
        /** A JDBC URL that is not one plain {@code jdbc:postgresql://host:port/database}. */
        URL,
        /** A property this data source does not know to be harmless. */
        UNKNOWN_PROPERTY,
        /** The server did not accept the connection (certificate refused, wrong host name, TLS version). */
        CONNECTION_FAILED,
        /** {@code pg_stat_ssl} did not show TLS 1.3 with our client certificate. */
        TLS_POSTURE,
        /**
         * The role, or a role it is a member of or can SET ROLE to, is a superuser or has BYPASSRLS,
         * REPLICATION, CREATEROLE or server file access; it starts as another role; it owns (or can
         * become the owner of) a table with row-level security; it can use a table whose policies
         * are not enforced, or read one through a view that does not apply them.
         */
        ROLE_PRIVILEGES,
        /** The read-only pool's role can write, or its sessions are not read-only by default. */
        NOT_READ_ONLY,
        /**
         * The client certificate's CN is not exactly its own SPIFFE ID (or it has none, or the ID is
         * longer than a CN may be): PostgreSQL maps the CN to a role, so it could log in as another's.
         */
        CERTIFICATE_NAME
    }

    private final Reason reason;

    InsecureDataSourceException(Reason reason, String message) {
        super(message);
        this.reason = Objects.requireNonNull(reason, "reason");
    }

    InsecureDataSourceException(Reason reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = Objects.requireNonNull(reason, "reason");
    }

    /** The rule that refused. */
    @Override
    public Reason reason() {
        return reason;
    }
}
