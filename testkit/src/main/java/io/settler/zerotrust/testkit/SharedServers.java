package io.settler.zerotrust.testkit;

import io.settler.zerotrust.pki.DevCertificateAuthority;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * The servers and the CA the JUnit extensions share: one of each per test run, kept in the root
 * context's store (the only state JUnit shares between test classes), which closes the servers
 * when the run ends.
 */
final class SharedServers {

    /** The trust domain of the shared CA. */
    static final String TRUST_DOMAIN = "testkit.settler.test";

    private static final ExtensionContext.Namespace NAMESPACE =
            ExtensionContext.Namespace.create(SharedServers.class);

    private SharedServers() {
    }

    /** The one CA of this test run, shared by every server the extensions start. */
    static DevCertificateAuthority certificateAuthority(ExtensionContext context) {
        return context.getRoot().getStore(NAMESPACE).computeIfAbsent(DevCertificateAuthority.class,
                key -> DevCertificateAuthority.create(TRUST_DOMAIN), DevCertificateAuthority.class);
    }

    /** The one PostgreSQL of this test run, started on first use. */
    static LocalPostgres postgres(ExtensionContext context) {
        DevCertificateAuthority ca = certificateAuthority(context);
        return context.getRoot().getStore(NAMESPACE).computeIfAbsent(LocalPostgres.class,
                key -> LocalPostgres.builder(ca).start(), LocalPostgres.class);
    }

    /** The one Redis of this test run, started on first use. */
    static LocalRedis redis(ExtensionContext context) {
        DevCertificateAuthority ca = certificateAuthority(context);
        return context.getRoot().getStore(NAMESPACE).computeIfAbsent(LocalRedis.class,
                key -> LocalRedis.builder(ca).start(), LocalRedis.class);
    }
}
