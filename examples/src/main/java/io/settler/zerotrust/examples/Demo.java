package io.settler.zerotrust.examples;

import io.settler.zerotrust.audit.AuditEvent;
import io.settler.zerotrust.audit.AuditLog;
import io.settler.zerotrust.authz.PeerAuthorizer;
import io.settler.zerotrust.credentials.CredentialSource;
import io.settler.zerotrust.credentials.TlsIdentity;
import io.settler.zerotrust.credentials.TrustBundle;
import io.settler.zerotrust.pki.CertificateDefect;
import io.settler.zerotrust.pki.DevCertificateAuthority;
import io.settler.zerotrust.pki.IssuedCertificate;
import io.settler.zerotrust.testkit.LocalPostgres;
import io.settler.zerotrust.testkit.LocalRedis;
import io.settler.zerotrust.tls.MtlsContext;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManagerFactory;

/**
 * The demo behind {@code bin/demo}: issues a development CA and service certificates, starts a
 * TLS PostgreSQL and a TLS Redis on loopback, then tries what should work and each attack that
 * should be refused, and prints a report. Exits 1 if any expectation fails; everything it started
 * stops at the end, also on Ctrl-C (the testkit's shutdown hooks).
 */
public final class Demo {

    private static final String TRUST_DOMAIN = "demo.settler.test";

    private final DevCertificateAuthority ca = DevCertificateAuthority.create(TRUST_DOMAIN);
    private final TrustBundle trust = TrustBundle.of(List.of(ca.rootCertificate()));
    private final List<String> failures = new ArrayList<>();
    /** The server's last refusal, so the report can say why the server refused, not only what the client saw. */
    private final AtomicReference<AuditEvent> lastRefusal = new AtomicReference<>();

    private Demo() {
    }

    /** Runs the demo; exit status 0 when every expectation held. */
    public static void main(String[] args) throws Exception {
        System.exit(runScenario().isEmpty() ? 0 : 1);
    }

    /** Runs the whole scenario, printing the report; returns the expectations that failed. */
    static List<String> runScenario() throws Exception {
        Demo demo = new Demo();
        demo.run();
        return List.copyOf(demo.failures);
    }

    private void run() throws Exception {
        say("Settler Zero Trust demo: development CA for " + TRUST_DOMAIN);
        serviceToService();
        try (LocalPostgres postgres = progress("starting TLS PostgreSQL on 127.0.0.1",
                () -> LocalPostgres.builder(ca).start())) {
            database(postgres);
        }
        try (LocalRedis redis = progress("starting TLS Redis on 127.0.0.1",
                () -> LocalRedis.builder(ca).user("worker", "demo-only-password", "~jobs:* +@read +@write +ping -@dangerous")
                        .start())) {
            cache(redis);
        }
        say("");
        say(failures.isEmpty() ? "All expectations held." : failures.size() + " expectation(s) FAILED: " + failures);
    }

    // --- mTLS between services -------------------------------------------------------------

    private void serviceToService() throws Exception {
        say("\nService to service (mTLS, TLS 1.3, identity allow-list: only spiffe://" + TRUST_DOMAIN + "/worker)");
        IssuedCertificate api = ca.leaf("api").dnsNames("localhost").ipAddresses("127.0.0.1").issue();
        MtlsContext server = MtlsContext.server(credentials(api),
                        PeerAuthorizer.builder().allowIdentities("spiffe://" + TRUST_DOMAIN + "/worker").build())
                .auditLog(AuditLog.slf4j().alsoTo(this::remember)).build();
        try (EchoServer echo = new EchoServer(server)) {
            expectAccepted("worker calls api", () -> echo.call(ourClient(ca.leaf("worker").issue())));
            expectRefused("intruder (valid certificate, identity not allowed)",
                    () -> echo.call(ourClient(ca.leaf("intruder").issue())));
            expectRefused("client without a certificate", () -> echo.call(plainClient(null, "TLSv1.3")));
            expectRefused("TLS 1.2 client", () -> echo.call(plainClient(ca.leaf("worker").issue(), "TLSv1.2")));
            expectRefused("certificate from an unknown CA (same name, other key)",
                    () -> echo.call(plainClient(ca.leaf("worker").defect(CertificateDefect.UNKNOWN_CA).issue(), "TLSv1.3")));
            expectRefused("expired certificate",
                    () -> echo.call(plainClient(ca.leaf("worker").defect(CertificateDefect.EXPIRED).issue(), "TLSv1.3")));
        }
    }

    // --- PostgreSQL ----------------------------------------------------------------------------

    private void database(LocalPostgres postgres) throws Exception {
        say("\nPostgreSQL (hostssl ... cert only, TLS 1.3 minimum, verify-full)");
        postgres.createRole("app");
        postgres.createRole("admin_tool");
        postgres.createDatabase("orders", "app");
        expectAccepted("app connects with its certificate", () -> {
            try (Connection db = postgres.connect("orders", "app");
                 ResultSet rs = db.createStatement().executeQuery(
                         "select version, client_dn from pg_stat_ssl where pid = pg_backend_pid()")) {
                rs.next();
                return rs.getString(1) + ", client " + rs.getString(2);
            }
        });
        expectRefused("plaintext connection (sslmode=disable)", () -> {
            Properties plain = new Properties();
            plain.setProperty("user", "app");
            plain.setProperty("sslmode", "disable");
            try (Connection db = DriverManager.getConnection(
                    "jdbc:postgresql://127.0.0.1:" + postgres.port() + "/orders", plain)) {
                return "connected as " + db.getMetaData().getUserName();
            }
        });
        expectRefused("app's certificate used to log in as admin_tool", () -> {
            try (Connection db = DriverManager.getConnection(postgres.jdbcUrl("orders"),
                    postgres.connectionProperties("admin_tool", postgres.clientCertificate("app")))) {
                return "connected as " + db.getMetaData().getUserName();
            }
        });
    }

    // --- Redis -----------------------------------------------------------------------------------

    private void cache(LocalRedis redis) throws Exception {
        say("\nRedis (no plaintext port, TLS 1.3, client certificates, ACL users)");
        MtlsContext client = MtlsContext.client(credentials(ca.leaf("worker").issue())).build();
        expectAccepted("worker AUTHs over mTLS and PINGs", () -> resp(client.socketFactory(), redis,
                "AUTH worker demo-only-password\r\nPING\r\n", 2));
        expectRefused("wrong password", () -> expectOk(resp(client.socketFactory(), redis,
                "AUTH worker wrong\r\nPING\r\n", 2)));
        expectRefused("client without a certificate", () -> resp(plainClient(null, "TLSv1.3"), redis,
                "AUTH worker demo-only-password\r\nPING\r\n", 2));
        expectRefused("TLS 1.2 client", () -> resp(plainClient(ca.leaf("worker").issue(), "TLSv1.2"), redis,
                "PING\r\n", 1));
    }

    private static String expectOk(String reply) throws IOException {
        if (reply.contains("-")) {
            throw new IOException("server said: " + reply.trim().replace("\r\n", " "));
        }
        return reply;
    }

    private static String resp(SSLSocketFactory factory, LocalRedis redis, String commands, int replies)
            throws IOException {
        try (SSLSocket socket = (SSLSocket) factory.createSocket(redis.host(), redis.tlsPort())) {
            socket.setSoTimeout(5_000);
            socket.getOutputStream().write(commands.getBytes(StandardCharsets.US_ASCII));
            socket.getOutputStream().flush();
            InputStream in = socket.getInputStream();
            StringBuilder reply = new StringBuilder();
            int lines = 0;
            int c;
            while (lines < replies && (c = in.read()) >= 0) {
                reply.append((char) c);
                if (c == '\n') {
                    lines++;
                }
            }
            if (lines < replies) {
                throw new IOException("connection closed by the server");
            }
            return expectOk(reply.toString()).trim().replace("\r\n", " ") + " (" + socket.getSession().getProtocol() + ")";
        }
    }

    // --- helpers --------------------------------------------------------------------------------

    private CredentialSource credentials(IssuedCertificate issued) {
        return CredentialSource.fixed(TlsIdentity.of(issued.privateKey(), issued.chain()), trust);
    }

    private SSLSocketFactory ourClient(IssuedCertificate issued) {
        return MtlsContext.client(credentials(issued)).build().socketFactory();
    }

    /** A JDK client without any of our checks: what an attacker or a misconfigured peer would use. */
    private SSLSocketFactory plainClient(IssuedCertificate issued, String protocol) throws Exception {
        KeyStore keys = KeyStore.getInstance("PKCS12");
        keys.load(null, null);
        if (issued != null) {
            keys.setKeyEntry("k", issued.privateKey(), new char[0], issued.chain().toArray(X509Certificate[]::new));
        }
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(keys, new char[0]);
        KeyStore anchors = KeyStore.getInstance("PKCS12");
        anchors.load(null, null);
        anchors.setCertificateEntry("ca", ca.rootCertificate());
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(anchors);
        SSLContext context = SSLContext.getInstance(protocol);
        context.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
        return context.getSocketFactory(); // a "TLSv1.2" context offers nothing newer
    }

    @FunctionalInterface
    private interface Attempt<T> {
        T run() throws Exception;
    }

    private void expectAccepted(String what, Attempt<?> attempt) {
        try {
            Object result = attempt.run();
            say("  \u2714 " + what + ": accepted" + (result instanceof String s && !s.isEmpty() ? " (" + s + ")" : ""));
        } catch (Exception e) {
            failures.add(what);
            say("  \u2718 " + what + ": expected to be accepted, but " + describe(e));
        }
    }

    private void expectRefused(String what, Attempt<?> attempt) {
        lastRefusal.set(null);
        try {
            attempt.run();
            failures.add(what);
            say("  \u2718 " + what + ": expected to be refused, but it was accepted");
        } catch (Exception e) {
            AuditEvent audit = lastRefusal.get();
            say("  \u2714 " + what + ": refused (" + (audit == null ? describe(e)
                    : "audit: " + audit.fields().get("reason") + ", " + audit.fields().get("detail")) + ")");
        }
    }

    private void remember(AuditEvent event) {
        if (event.outcome() == AuditEvent.Outcome.REFUSED) {
            lastRefusal.set(event);
        }
    }

    private static String describe(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String message = root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
        message = message.replaceAll("\\s+", " ");
        return message.length() > 140 ? message.substring(0, 140) + "..." : message;
    }

    private static <T> T progress(String what, Attempt<T> start) throws Exception {
        System.out.print("\n" + what + " ... ");
        System.out.flush();
        long t0 = System.nanoTime();
        T result = start.run();
        System.out.println("ready in " + (System.nanoTime() - t0) / 1_000_000 + " ms");
        return result;
    }

    private static void say(String line) {
        System.out.println(line);
    }

    /** An mTLS echo server on a free loopback port: reads one byte and writes it back. */
    private static final class EchoServer implements AutoCloseable {
        private final MtlsContext context;
        private final SSLServerSocket listener;
        private final AtomicBoolean open = new AtomicBoolean(true);

        EchoServer(MtlsContext context) throws IOException {
            this.context = context;
            listener = (SSLServerSocket) context.serverSocketFactory().createServerSocket(0, 8,
                    InetAddress.getLoopbackAddress());
            Thread acceptor = new Thread(this::serve, "demo-echo-server");
            acceptor.setDaemon(true);
            acceptor.start();
        }

        private void serve() {
            while (open.get()) {
                try (SSLSocket socket = (SSLSocket) listener.accept()) {
                    socket.setSoTimeout(5_000);
                    context.handshake(socket); // audits refusals the JDK makes before our checks
                    OutputStream out = socket.getOutputStream();
                    out.write(socket.getInputStream().read());
                    out.flush();
                } catch (IOException refusedOrClosed) {
                    // A refused peer ends its own connection; the audit log has the details.
                }
            }
        }

        String call(SSLSocketFactory factory) throws IOException {
            try (Socket plain = new Socket()) {
                plain.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), listener.getLocalPort()), 5_000);
                try (SSLSocket socket = (SSLSocket) factory.createSocket(plain, "localhost", listener.getLocalPort(), true)) {
                    socket.setSoTimeout(5_000);
                    socket.startHandshake();
                    socket.getOutputStream().write(7);
                    socket.getOutputStream().flush();
                    if (socket.getInputStream().read() != 7) {
                        throw new IOException("the server closed the connection after the handshake");
                    }
                    return socket.getSession().getProtocol() + ", server "
                            + socket.getSession().getPeerPrincipal().getName();
                }
            }
        }

        @Override
        public void close() throws IOException {
            open.set(false);
            listener.close();
        }
    }
}
