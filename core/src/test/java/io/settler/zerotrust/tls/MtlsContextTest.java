package io.settler.zerotrust.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.settler.zerotrust.audit.AuditEvent;
import io.settler.zerotrust.audit.AuditLog;
import io.settler.zerotrust.audit.CoreTestAudit;
import io.settler.zerotrust.authz.PeerAuthorizer;
import io.settler.zerotrust.authz.PeerRule;
import io.settler.zerotrust.credentials.CredentialSource;
import io.settler.zerotrust.credentials.TlsIdentity;
import io.settler.zerotrust.credentials.TrustBundle;
import io.settler.zerotrust.pki.CertificateDefect;
import io.settler.zerotrust.pki.DevCertificateAuthority;
import io.settler.zerotrust.pki.IssuedCertificate;
import io.settler.zerotrust.trust.PeerVerificationException;
import io.settler.zerotrust.trust.PeerVerificationException.Reason;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLServerSocketFactory;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Real handshakes over 127.0.0.1 between our contexts, and against plain JDK peers. */
class MtlsContextTest {

    private static final DevCertificateAuthority CA = DevCertificateAuthority.create("example.org");
    private static final IssuedCertificate SERVER = CA.leaf("api").serverAndClient()
            .dnsNames("localhost").ipAddresses("127.0.0.1").issue();
    private static final String WORKER = "spiffe://example.org/worker";

    private final List<AuditEvent> audit = new CopyOnWriteArrayList<>();
    private final AuditLog auditLog = CoreTestAudit.into(audit);

    private static CredentialSource credentials(IssuedCertificate issued) {
        return CredentialSource.fixed(TlsIdentity.of(issued.privateKey(), issued.chain()),
                TrustBundle.of(List.of(CA.rootCertificate())));
    }

    private MtlsContext server(PeerAuthorizer authorizer) {
        return MtlsContext.server(credentials(SERVER), authorizer).auditLog(auditLog).build();
    }

    private MtlsContext server() {
        return server(PeerAuthorizer.builder().allowIdentities(WORKER).build());
    }

    private MtlsContext client(IssuedCertificate issued) {
        return MtlsContext.client(credentials(issued)).auditLog(auditLog).build();
    }

    /** A JDK client that presents {@code issued} (or nothing) and trusts our CA, without any of our checks. */
    private static SSLSocketFactory plainJdkClient(IssuedCertificate issued, String protocol) throws Exception {
        return plainJdk(issued, protocol).getSocketFactory();
    }

    /**
     * A JDK context with none of our checks: presents {@code issued} (or nothing), trusts our CA,
     * and keeps and offers sessions (TLS 1.3 tickets, TLS 1.2 session IDs and tickets) as the JDK
     * does by default.
     */
    private static SSLContext plainJdk(IssuedCertificate issued, String protocol) throws Exception {
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        KeyStore keys = KeyStore.getInstance("PKCS12");
        keys.load(null, null);
        if (issued != null) {
            keys.setKeyEntry("k", issued.privateKey(), new char[0], issued.chain().toArray(X509Certificate[]::new));
        }
        kmf.init(keys, new char[0]);
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("ca", CA.rootCertificate());
        tmf.init(trust);
        SSLContext context = SSLContext.getInstance(protocol);
        context.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
        return context;
    }

    private Reason serverRefusal(Loopback.Outcome outcome) {
        assertThat(outcome.succeeded()).as("the exchange must fail").isFalse();
        assertThat(outcome.server()).as("the server must refuse").isPresent();
        assertThat(outcome.server().get()).isInstanceOf(PeerVerificationException.class);
        return ((PeerVerificationException) outcome.server().get()).reason();
    }

    private AuditEvent onlyRefusal() {
        return audit.stream().filter(e -> e.action().equals("peer.refused")).findFirst().orElseThrow();
    }

    @Test
    void acceptsAllowedClientAndAuditsBothSides() throws Exception {
        Loopback.Outcome outcome = Loopback.exchange(server().serverSocketFactory(),
                client(CA.leaf("worker").issue()).socketFactory(), "localhost");

        assertThat(outcome.succeeded()).as(outcome.toString()).isTrue();
        assertThat(audit).filteredOn(e -> e.action().equals("peer.accepted"))
                .extracting(e -> e.fields().get("role") + " " + e.fields().get("identity"))
                .containsExactlyInAnyOrder("client " + WORKER, "server spiffe://example.org/api");
    }

    @Test
    void recordsAPostureEventWithoutKeyMaterial() {
        server();

        AuditEvent posture = audit.stream().filter(e -> e.action().equals("tls.posture")).findFirst().orElseThrow();
        assertThat(posture.fields()).containsEntry("protocols", "TLSv1.3").containsEntry("client_auth", "required")
                .containsEntry("identity", "spiffe://example.org/api")
                .containsEntry("authorizer", "identity=" + WORKER);
        assertThat(posture.fields().values()).noneMatch(v -> v.contains("PRIVATE"));
    }

    @Test
    void refusesClientWithoutCertificate() throws Exception {
        Loopback.Outcome outcome = Loopback.exchange(server(), plainJdkClient(null, "TLSv1.3"), "localhost");

        assertThat(outcome.succeeded()).isFalse();
        assertThat(outcome.server()).isPresent();
        assertThat(outcome.server().get()).isInstanceOf(javax.net.ssl.SSLHandshakeException.class)
                .hasMessageContaining("certificate");
        assertThat(onlyRefusal().fields()).containsEntry("reason", "NO_CERTIFICATE")
                .containsEntry("remote", "127.0.0.1");
    }

    @Test
    void refusesClientFromUnknownCa() throws Exception {
        IssuedCertificate forged = CA.leaf("worker").defect(CertificateDefect.UNKNOWN_CA).issue();

        Reason reason = serverRefusal(Loopback.exchange(server().serverSocketFactory(),
                plainJdkClient(forged, "TLSv1.3"), "localhost"));

        assertThat(reason).isIn(Reason.UNTRUSTED_ISSUER, Reason.BAD_SIGNATURE);
        assertThat(onlyRefusal().fields()).containsEntry("role", "client").containsEntry("remote", "127.0.0.1");
    }

    @Test
    void refusesExpiredClientCertificate() throws Exception {
        IssuedCertificate expired = CA.leaf("worker").defect(CertificateDefect.EXPIRED).issue();

        assertThat(serverRefusal(Loopback.exchange(server().serverSocketFactory(),
                plainJdkClient(expired, "TLSv1.3"), "localhost"))).isEqualTo(Reason.EXPIRED);
        assertThat(onlyRefusal().fields()).containsEntry("reason", "EXPIRED");
    }

    @Test
    void refusesNotYetValidClientCertificate() throws Exception {
        IssuedCertificate early = CA.leaf("worker").defect(CertificateDefect.NOT_YET_VALID).issue();

        assertThat(serverRefusal(Loopback.exchange(server().serverSocketFactory(),
                plainJdkClient(early, "TLSv1.3"), "localhost"))).isEqualTo(Reason.NOT_YET_VALID);
    }

    @Test
    void refusesClientCertificateWithoutClientAuthEku() throws Exception {
        IssuedCertificate serverOnly = CA.leaf("worker").server().issue();

        assertThat(serverRefusal(Loopback.exchange(server().serverSocketFactory(),
                plainJdkClient(serverOnly, "TLSv1.3"), "localhost"))).isEqualTo(Reason.WRONG_EXTENDED_KEY_USAGE);
    }

    @Test
    void refusesClientLeafWithCaFlag() throws Exception {
        IssuedCertificate caLeaf = CA.leaf("worker").defect(CertificateDefect.CA_FLAG_ON_LEAF).issue();

        assertThat(serverRefusal(Loopback.exchange(server().serverSocketFactory(),
                plainJdkClient(caLeaf, "TLSv1.3"), "localhost"))).isIn(Reason.END_ENTITY_IS_CA, Reason.WRONG_KEY_USAGE);
    }

    @Test
    void refusesIdentityNotOnTheAllowList() throws Exception {
        Reason reason = serverRefusal(Loopback.exchange(server().serverSocketFactory(),
                client(CA.leaf("intruder").issue()).socketFactory(), "localhost"));

        assertThat(reason).isEqualTo(Reason.NOT_AUTHORIZED);
        assertThat(onlyRefusal().fields()).containsEntry("reason", "NOT_AUTHORIZED")
                .hasEntrySatisfying("detail", d -> assertThat(d).contains("spiffe://example.org/intruder"));
    }

    @Test
    void refusesAllowedIdentityFromAnotherNetwork() throws Exception {
        PeerAuthorizer onlyFromTenNet = PeerAuthorizer.builder()
                .allow(PeerRule.allOf(PeerRule.identity(WORKER), PeerRule.fromNetworks("10.0.0.0/8"))).build();

        assertThat(serverRefusal(Loopback.exchange(server(onlyFromTenNet).serverSocketFactory(),
                client(CA.leaf("worker").issue()).socketFactory(), "localhost"))).isEqualTo(Reason.NOT_AUTHORIZED);
    }

    @Test
    void refusesTls12Client() throws Exception {
        Loopback.Outcome outcome = Loopback.exchange(server(), plainJdkClient(CA.leaf("worker").issue(), "TLSv1.2"),
                "localhost");

        assertThat(outcome.client()).isPresent();
        assertThat(outcome.server()).isPresent();
        assertThat(outcome.server().get()).isInstanceOf(javax.net.ssl.SSLHandshakeException.class)
                .hasMessageContaining("protocol");
        assertThat(onlyRefusal().fields()).containsEntry("reason", "PROTOCOL_VERSION");
    }

    @Test
    void auditsOurOwnRefusalsOnlyOnceThroughHandshake() throws Exception {
        serverRefusal(Loopback.exchange(server(), client(CA.leaf("intruder").issue()).socketFactory(), "localhost"));

        assertThat(audit).filteredOn(e -> e.action().equals("peer.refused")).singleElement()
                .satisfies(e -> assertThat(e.fields()).containsEntry("reason", "NOT_AUTHORIZED"));
    }

    @Test
    void acceptsTls12ClientOnlyWhenExplicitlyAllowed() throws Exception {
        MtlsContext lenient =
                MtlsContext.server(credentials(SERVER), PeerAuthorizer.builder().allowIdentities(WORKER).build())
                .allowTls12().auditLog(auditLog).build();

        Loopback.Outcome outcome = Loopback.exchange(lenient.serverSocketFactory(),
                plainJdkClient(CA.leaf("worker").issue(), "TLSv1.2"), "localhost");

        assertThat(outcome.succeeded()).as(outcome.toString()).isTrue();
        assertThat(audit).filteredOn(e -> e.action().equals("tls.posture"))
                .singleElement().satisfies(e -> assertThat(e.outcome()).isEqualTo(AuditEvent.Outcome.WARNING));
    }

    @Test
    void clientVerifiesServerHostName() throws Exception {
        assertThat(Loopback.exchange(server().serverSocketFactory(),
                client(CA.leaf("worker").issue()).socketFactory(), "127.0.0.1").succeeded()).isTrue();

        Loopback.Outcome wrongHost = Loopback.exchange(server().serverSocketFactory(),
                client(CA.leaf("worker").issue()).socketFactory(), "db.example.org");
        assertThat(wrongHost.client()).isPresent();
        assertThat(Loopback.rootOf(wrongHost.client().get())).isInstanceOf(PeerVerificationException.class);
        assertThat(((PeerVerificationException) Loopback.rootOf(wrongHost.client().get())).reason())
                .isEqualTo(Reason.NAME_MISMATCH);
    }

    @Test
    void clientNeverFallsBackToTheCommonName() throws Exception {
        IssuedCertificate cnOnly = CA.leaf("api").commonName("localhost").issue(); // no DNS SAN
        MtlsContext server =
                MtlsContext.server(credentials(cnOnly), PeerAuthorizer.builder().allowIdentities(WORKER).build())
                .auditLog(auditLog).build();

        Loopback.Outcome outcome = Loopback.exchange(server.serverSocketFactory(),
                client(CA.leaf("worker").issue()).socketFactory(), "localhost");

        assertThat(outcome.client()).isPresent();
        assertThat(((PeerVerificationException) Loopback.rootOf(outcome.client().get())).reason())
                .isEqualTo(Reason.NAME_MISMATCH);
    }

    @ParameterizedTest
    @ValueSource(strings = {"spiffe:/example.org/api", "spiffe:example.org/api", "SPIFFE://example.org/api"})
    void mistypedSpiffeIdAsExpectedServerGetsTheSpiffeIdError(String mistyped) {
        MtlsContext.Builder client = MtlsContext.client(credentials(CA.leaf("worker").issue()));

        assertThatThrownBy(() -> client.expectedServer(mistyped))
                .isInstanceOf(io.settler.zerotrust.identity.InvalidServiceIdentityException.class)
                .hasMessage("'" + mistyped + "' is not a SPIFFE ID: it must start with spiffe:// (lower case),"
                        + " e.g. spiffe://example.org/api")
                .hasMessageNotContaining("IP address");
    }

    @Test
    void clientVerifiesServerSpiffeIdentity() throws Exception {
        MtlsContext expectsApi = MtlsContext.client(credentials(CA.leaf("worker").issue()))
                .expectedServer("spiffe://example.org/api").auditLog(auditLog).build();
        MtlsContext expectsDb = MtlsContext.client(credentials(CA.leaf("worker").issue()))
                .expectedServer("spiffe://example.org/db").auditLog(auditLog).build();

        assertThat(Loopback.exchange(server().serverSocketFactory(), expectsApi.socketFactory(), "anything")
                .succeeded()).isTrue();
        Loopback.Outcome impostor =
                Loopback.exchange(server().serverSocketFactory(), expectsDb.socketFactory(), "anything");
        assertThat(((PeerVerificationException) Loopback.rootOf(impostor.client().orElseThrow())).reason())
                .isEqualTo(Reason.NAME_MISMATCH);
    }

    @Test
    void rawContextStillRequiresClientCertificatesAndTls13() throws Exception {
        SSLServerSocketFactory raw = server().sslContext().getServerSocketFactory();
        SSLSocketFactory noCert = plainJdkClient(null, "TLSv1.3");

        assertThat(Loopback.exchange(raw, noCert, "localhost").server()).isPresent();
        assertThat(server().sslContext().getDefaultSSLParameters().getProtocols()).containsExactly("TLSv1.3");
        assertThat(server().sslContext().createSSLEngine().getNeedClientAuth()).isTrue();
    }

    @ParameterizedTest
    @ValueSource(strings = {"TLSv1.3", "TLSv1.2"})
    void serverVerifiesAuthorizesAndAuditsEveryConnectionOfAClientThatOffersItsSession(String protocol)
            throws Exception {
        MtlsContext server = MtlsContext.server(credentials(SERVER), PeerAuthorizer.builder()
                .allowIdentities(WORKER).build()).allowTls12().auditLog(auditLog).build();
        List<Loopback.Outcome> outcomes = Loopback.exchanges(server.serverSocketFactory(), server::handshake,
                plainJdkClient(CA.leaf("worker").issue(), protocol), "localhost", 3);

        assertThat(outcomes).allMatch(Loopback.Outcome::succeeded);
        assertThat(audit).filteredOn(event -> event.action().equals("peer.accepted"))
                .as("a resumed handshake would skip verification, authorization and this event")
                .hasSize(3)
                .allMatch(event -> WORKER.equals(event.fields().get("identity")));
    }

    @ParameterizedTest
    @ValueSource(strings = {"TLSv1.3", "TLSv1.2"})
    void clientVerifiesEveryServerItReconnectsToThoughTheServerOffersResumption(String protocol) throws Exception {
        SSLContext plainServer = plainJdk(SERVER, protocol);
        MtlsContext client = MtlsContext.client(credentials(CA.leaf("worker").issue())).allowTls12()
                .auditLog(auditLog).build();
        List<Loopback.Outcome> outcomes = Loopback.exchanges(plainServer.getServerSocketFactory(), socket -> {
            socket.setNeedClientAuth(true);
            socket.startHandshake();
        }, client.socketFactory(), "localhost", 3);

        assertThat(outcomes).allMatch(Loopback.Outcome::succeeded);
        assertThat(audit).filteredOn(event -> event.action().equals("peer.accepted"))
                .as("each connection verified the server again")
                .hasSize(3)
                .allMatch(event -> "server".equals(event.fields().get("role")));
    }

    @Test
    void clientBuiltElsewhereFromOurManagersVerifiesEveryServerItReconnectsToOverTls12() throws Exception {
        // As Lettuce does: its own JDK context from our key and trust managers, and its own parameters.
        // (Over TLS 1.3 the JDK there keeps the server's tickets: see refuseResumption(engine).)
        MtlsContext ours = MtlsContext.client(credentials(CA.leaf("worker").issue())).allowTls12()
                .auditLog(auditLog).build();
        SSLContext elsewhere = SSLContext.getInstance("TLSv1.2");
        elsewhere.init(new KeyManager[] {ours.keyManager()}, new TrustManager[] {ours.trustManager()}, null);
        SSLContext plainServer = plainJdk(SERVER, "TLSv1.2");
        List<Loopback.Outcome> outcomes = Loopback.exchanges(plainServer.getServerSocketFactory(), socket -> {
            socket.setNeedClientAuth(true);
            socket.startHandshake();
        }, elsewhere.getSocketFactory(), "localhost", 3);

        assertThat(outcomes).allMatch(Loopback.Outcome::succeeded);
        assertThat(audit).filteredOn(event -> event.action().equals("peer.accepted"))
                .as("each connection verified the server again")
                .hasSize(3);
    }

    @Test
    void serverThatHandshakesImplicitlyStillIssuesNoTls13Ticket() throws Exception {
        List<Loopback.Outcome> outcomes = Loopback.exchanges(server().serverSocketFactory(), socket -> { },
                plainJdkClient(CA.leaf("worker").issue(), "TLSv1.3"), "localhost", 3);

        assertThat(outcomes).allMatch(Loopback.Outcome::succeeded);
        assertThat(audit).filteredOn(event -> event.action().equals("peer.accepted")).hasSize(3);
    }

    @Test
    void verifiesAnEstablishedPeerAgainstTheTrustBundleAfterRotation() throws Exception {
        SwappableSource serverTrust = new SwappableSource(credentials(SERVER).current());
        SwappableSource clientTrust = new SwappableSource(credentials(CA.leaf("worker").issue()).current());
        MtlsContext server = MtlsContext.server(serverTrust, PeerAuthorizer.builder().allowIdentities(WORKER).build())
                .auditLog(auditLog).build();
        MtlsContext client = MtlsContext.client(clientTrust).auditLog(auditLog).build();
        Loopback.Sessions sessions = Loopback.handshake(server, client, "localhost");

        assertThat(server.verifyAgain(sessions.server()).identity()).hasValueSatisfying(
                identity -> assertThat(identity.toString()).isEqualTo(WORKER));
        assertThat(client.verifyAgain(sessions.client()).identity()).hasValueSatisfying(
                identity -> assertThat(identity.toString()).isEqualTo("spiffe://example.org/api"));

        // The CA is re-keyed on both ends: a new root of the same name replaces the one that issued the peers.
        TrustBundle rekeyed = TrustBundle.of(List.of(DevCertificateAuthority.create("example.org").rootCertificate()));
        serverTrust.swapTrust(rekeyed);
        clientTrust.swapTrust(rekeyed);
        assertThatThrownBy(() -> server.verifyAgain(sessions.server()))
                .isInstanceOfSatisfying(PeerVerificationException.class,
                        e -> assertThat(e.reason()).isEqualTo(Reason.BAD_SIGNATURE));
        assertThatThrownBy(() -> client.verifyAgain(sessions.client()))
                .isInstanceOfSatisfying(PeerVerificationException.class,
                        e -> assertThat(e.reason()).isEqualTo(Reason.BAD_SIGNATURE));
    }

    @Test
    void postureSaysSessionsAreNeverResumed() {
        server();
        assertThat(audit).filteredOn(event -> event.action().equals("tls.posture"))
                .singleElement()
                .satisfies(event -> assertThat(event.fields()).containsEntry("session_resumption", "refused"));
    }

    @Test
    void refusesReinitialisationOfItsContext() {
        assertThatThrownBy(() -> server().sslContext().init(null, null, null))
                .isInstanceOf(java.security.KeyManagementException.class);
    }

    /** A context assembled elsewhere from our managers, as Netty and Lettuce do. */
    private static SSLContext assembled(MtlsContext context) throws Exception {
        SSLContext assembled = SSLContext.getInstance("TLSv1.3");
        assembled.init(new javax.net.ssl.KeyManager[] {context.keyManager()},
                new javax.net.ssl.TrustManager[] {context.trustManager()}, null);
        return assembled;
    }

    @Test
    void managersKeepVerifyingWhenAssembledIntoAnotherContext() throws Exception {
        MtlsContext server = server();
        SSLServerSocketFactory serverSockets = assembled(server).getServerSocketFactory();
        SSLSocketFactory allowed = assembled(client(CA.leaf("worker").issue())).getSocketFactory();
        SSLSocketFactory other = assembled(client(CA.leaf("intruder").issue())).getSocketFactory();

        Loopback.Outcome accepted = Loopback.exchange(serverSockets, socket -> {
            socket.setNeedClientAuth(true);
            socket.startHandshake();
        }, allowed, "localhost");
        assertThat(accepted.succeeded()).as(accepted.toString()).isTrue();

        Loopback.Outcome refused = Loopback.exchange(serverSockets, socket -> {
            socket.setNeedClientAuth(true);
            socket.startHandshake();
        }, other, "localhost");
        assertThat(serverRefusal(refused)).isEqualTo(Reason.NOT_AUTHORIZED);
    }
}
