package io.settler.zerotrust.netty;

import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.settler.zerotrust.audit.AuditEvent;
import io.settler.zerotrust.authz.PeerAuthorizer;
import io.settler.zerotrust.credentials.CredentialSource;
import io.settler.zerotrust.credentials.TlsIdentity;
import io.settler.zerotrust.credentials.TrustBundle;
import io.settler.zerotrust.pki.DevCertificateAuthority;
import io.settler.zerotrust.pki.IssuedCertificate;
import io.settler.zerotrust.testkit.RecordingAuditLog;
import io.settler.zerotrust.tls.MtlsContext;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.function.Predicate;
import javax.net.ssl.SSLException;

/** One development CA for the suite, certificates issued at test time, and a recording audit log. */
final class TestPki {

    static final DevCertificateAuthority CA = DevCertificateAuthority.create("example.org");
    static final IssuedCertificate API = CA.leaf("api").serverAndClient()
            .dnsNames("localhost").ipAddresses("127.0.0.1").issue();
    static final IssuedCertificate WORKER = CA.leaf("worker").serverAndClient().issue();
    static final IssuedCertificate INTRUDER = CA.leaf("intruder").serverAndClient().issue();
    static final String WORKER_ID = "spiffe://example.org/worker";

    /** Every event recorded (and logged), for assertions. */
    final RecordingAuditLog audit = RecordingAuditLog.logging();

    static CredentialSource credentials(IssuedCertificate issued) {
        return CredentialSource.fixed(TlsIdentity.of(issued.privateKey(), issued.chain()),
                TrustBundle.of(List.of(CA.rootCertificate())));
    }

    static PeerAuthorizer onlyWorker() {
        return PeerAuthorizer.builder().allowIdentities(WORKER_ID).build();
    }

    NettyMtls server(NettyMtls.Provider provider) {
        return server(provider, credentials(API), onlyWorker());
    }

    NettyMtls server(NettyMtls.Provider provider, CredentialSource credentials, PeerAuthorizer authorizer) {
        return NettyMtls.builder(MtlsContext.server(credentials, authorizer).auditLog(audit).build())
                .provider(provider).auditLog(audit).build();
    }

    NettyMtls client(NettyMtls.Provider provider, IssuedCertificate issued) {
        return NettyMtls.builder(MtlsContext.client(credentials(issued)).auditLog(audit).build())
                .provider(provider).auditLog(audit).build();
    }

    /**
     * A Netty client with none of our checks: trusts the CA, presents {@code issued} if not null, speaks
     * {@code protocol}.
     */
    static SslContext plainClient(NettyMtls.Provider provider, IssuedCertificate issued, String protocol)
            throws SSLException {
        return issued == null ? plainClient(provider, null, List.of(), protocol)
                : plainClient(provider, issued.privateKey(), issued.chain(), protocol);
    }

    /** A Netty client with none of our checks: trusts the CA, presents any {@code chain} with {@code key}. */
    static SslContext plainClient(NettyMtls.Provider provider, PrivateKey key, List<X509Certificate> chain,
                                  String protocol) throws SSLException {
        SslContextBuilder builder = SslContextBuilder.forClient()
                .sslProvider(provider == NettyMtls.Provider.OPENSSL ? SslProvider.OPENSSL : SslProvider.JDK)
                .trustManager(CA.rootCertificate())
                .protocols(protocol)
                .endpointIdentificationAlgorithm(null);
        if (key != null) {
            builder.keyManager(key, chain);
        }
        return builder.build();
    }

    /** Waits (at most 10 s) until an event matching {@code filter} was recorded, and returns it. */
    AuditEvent awaitEvent(String action, Predicate<AuditEvent> filter) {
        return audit.await(action, filter, Duration.ofSeconds(10));
    }

    static Predicate<AuditEvent> field(String name, String value) {
        return RecordingAuditLog.field(name, value);
    }
}
