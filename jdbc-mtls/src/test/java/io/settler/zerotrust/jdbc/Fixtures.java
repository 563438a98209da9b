package io.settler.zerotrust.jdbc;

import io.settler.zerotrust.credentials.CredentialSource;
import io.settler.zerotrust.credentials.TlsIdentity;
import io.settler.zerotrust.credentials.TrustBundle;
import io.settler.zerotrust.pki.IssuedCertificate;
import io.settler.zerotrust.testkit.LocalPostgres;
import java.util.List;

/** Credentials and builders for the tests, against the shared testkit PostgreSQL. */
final class Fixtures {

    /**
     * The drift check's own login to the database {@code orders} of a trust domain {@code example.org}
     * server, outside the policy: a separate ident map, which the drift check ignores.
     */
    static final String AUDITOR_HBA = "hostssl orders auditor 127.0.0.1/32 cert map=admin";
    /** The ident line for {@link #AUDITOR_HBA}. */
    static final String AUDITOR_IDENT = "admin \"spiffe://example.org/auditor\" auditor";
    /** What the drift check's role needs to read the configuration files' views. */
    static final String AUDITOR_GRANTS = String.join("\n",
            "GRANT SELECT ON pg_hba_file_rules TO auditor;",
            "GRANT EXECUTE ON FUNCTION pg_hba_file_rules() TO auditor;",
            "GRANT SELECT ON pg_ident_file_mappings TO auditor;",
            "GRANT EXECUTE ON FUNCTION pg_ident_file_mappings() TO auditor;");

    private Fixtures() {
    }

    static TrustBundle trust(LocalPostgres postgres) {
        return TrustBundle.of(List.of(postgres.certificateAuthority().rootCertificate()));
    }

    static TlsIdentity identity(IssuedCertificate certificate) {
        return TlsIdentity.of(certificate.privateKey(), certificate.chain());
    }

    /** A fixed source presenting {@code role}'s testkit certificate. */
    static CredentialSource credentials(LocalPostgres postgres, String role) {
        return CredentialSource.fixed(identity(postgres.clientCertificate(role)), trust(postgres));
    }

    static PostgresMtlsDataSource.Builder builder(LocalPostgres postgres, String database, String role) {
        return PostgresMtlsDataSource.builder()
                .host(postgres.host()).port(postgres.port()).database(database).role(role)
                .credentials(credentials(postgres, role))
                .maximumPoolSize(2);
    }
}
