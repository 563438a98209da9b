package io.settler.zerotrust.jdbc;

import io.settler.zerotrust.audit.LogSafe;
import io.settler.zerotrust.credentials.TlsIdentity;
import io.settler.zerotrust.identity.ServiceIdentity;
import io.settler.zerotrust.jdbc.InsecureDataSourceException.Reason;
import java.security.cert.X509Certificate;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;
import javax.naming.NamingEnumeration;
import javax.naming.NamingException;
import javax.naming.directory.Attribute;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;

/**
 * The name PostgreSQL's {@code cert} authentication knows a client by: the subject CN, which
 * {@code pg_ident.conf} maps to a role. PostgreSQL (up to 16) cannot read a URI SAN, so the CN must
 * carry the whole SPIFFE ID; a part of it (the last path segment) would let
 * {@code spiffe://<td>/dev/api} log in as {@code api}. A CN holds at most 64 characters (RFC 5280
 * {@code ub-common-name}), so longer identities cannot be mapped at all.
 */
final class CertificateRoleName {

    /** RFC 5280 {@code ub-common-name}. */
    static final int MAX_COMMON_NAME_LENGTH = 64;
    /** A plain PostgreSQL role name, as the pool accepts it. */
    static final Pattern ROLE_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_.\\-]{0,62}");

    private CertificateRoleName() {
    }

    /** Why {@code identity} cannot be the CN a role is mapped from, if it cannot. */
    static Optional<String> unrepresentable(ServiceIdentity identity) {
        int length = identity.toString().length();
        if (length > MAX_COMMON_NAME_LENGTH) {
            return Optional.of("the SPIFFE ID " + identity + " has " + length + " characters, more than the "
                    + MAX_COMMON_NAME_LENGTH + " a certificate's CN may hold, so PostgreSQL cannot tell it from"
                    + " another identity; shorten its path");
        }
        return Optional.empty();
    }

    /**
     * Refuses a client certificate PostgreSQL could map to another identity's role: it must carry a
     * SPIFFE ID short enough for a CN, and exactly one CN, that ID.
     *
     * @throws InsecureDataSourceException with {@link Reason#CERTIFICATE_NAME} otherwise
     */
    static void requireMappable(TlsIdentity client) {
        ServiceIdentity identity = client.identity().orElseThrow(() -> new InsecureDataSourceException(
                Reason.CERTIFICATE_NAME, "the client certificate " + client + " carries no SPIFFE ID (URI SAN);"
                + " PostgreSQL maps the certificate's CN to a role, and that CN must be the certificate's own"
                + " SPIFFE ID, so issue it with both"));
        unrepresentable(identity).ifPresent(why -> {
            throw new InsecureDataSourceException(Reason.CERTIFICATE_NAME, "the client certificate cannot be"
                    + " mapped to a role: " + why);
        });
        List<String> names = commonNames(client.certificate());
        if (!names.equals(List.of(identity.toString()))) {
            throw new InsecureDataSourceException(Reason.CERTIFICATE_NAME, "the client certificate for " + identity
                    + " has the CN " + LogSafe.text(String.valueOf(names)) + ", not its SPIFFE ID: PostgreSQL maps"
                    + " the CN to a role, so any other CN could log in as another service's role; issue it with"
                    + " exactly one CN, " + identity);
        }
    }

    /**
     * What to fix when PostgreSQL refused a certificate login ({@code 28000}, "certificate
     * authentication failed for user ..."): pg_ident.conf does not map the certificate's CN to the
     * role the pool asked for. With the usual mapping ({@link PostgresServerConfig}, the testkit) a
     * one-segment SPIFFE ID such as {@code spiffe://example.org/api} maps to the role of its path,
     * {@code api}.
     *
     * @param failure what the first connection threw
     * @param identity the SPIFFE ID of the certificate presented, also its CN ({@link #requireMappable})
     * @param role the role the pool asked for
     * @return the explanation, or empty if PostgreSQL refused for another reason
     */
    static Optional<String> refusedLogin(Throwable failure, ServiceIdentity identity, String role) {
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof SQLException sql && "28000".equals(sql.getSQLState())
                    && String.valueOf(sql.getMessage()).contains("certificate authentication failed")) {
                String cn = identity.toString();
                String own = identity.path();
                if (!own.equals(role) && ROLE_NAME.matcher(own).matches()) {
                    // Short: the audit event's detail keeps 300 characters.
                    return Optional.of("the certificate's CN is " + cn + ", which pg_ident.conf maps to role " + own
                            + "; the pool asked for role " + role + ": use the credentials of " + role
                            + " or set role(\"" + own + "\")");
                }
                return Optional.of("pg_ident.conf does not map the certificate's CN " + cn + " to role " + role
                        + ": use the credentials of " + role + ", set role(...) to the role pg_ident.conf maps " + cn
                        + " to, or map it (PostgresServerConfig.identLines()) and reload the server");
            }
        }
        return Optional.empty();
    }

    /** Every CN of the certificate's subject, in the order the subject lists them. */
    static List<String> commonNames(X509Certificate certificate) {
        List<String> names = new ArrayList<>();
        try {
            for (Rdn rdn : new LdapName(certificate.getSubjectX500Principal().getName()).getRdns()) {
                Attribute cn = rdn.toAttributes().get("CN"); // also inside a multi-valued RDN
                if (cn != null) {
                    for (NamingEnumeration<?> values = cn.getAll(); values.hasMore(); ) {
                        names.add(String.valueOf(values.next()));
                    }
                }
            }
        } catch (NamingException e) {
            throw new IllegalStateException("the JDK printed a subject it cannot parse back", e);
        }
        return List.copyOf(names);
    }
}
