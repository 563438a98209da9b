package io.settler.zerotrust.queue.rabbitmq;

import io.settler.zerotrust.audit.AuditLog;
import io.settler.zerotrust.credentials.CredentialSource;
import io.settler.zerotrust.queue.rabbitmq.RabbitMqDrift.Finding;
import io.settler.zerotrust.queue.rabbitmq.RabbitMqDrift.Kind;
import io.settler.zerotrust.tls.MtlsContext;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManager;

/**
 * Probes a live RabbitMQ TLS listener as the operator: logs in over TLS 1.3 with SASL EXTERNAL
 * (the broker's identity verified by the library), then checks that the listener offers EXTERNAL
 * only, refuses a TLS 1.2 handshake and refuses a client without a certificate. Reads the AMQP
 * {@code Connection.Start} frame itself for the mechanisms; never logs in with a password.
 */
final class ListenerProbe {

    private static final Duration TIMEOUT = Duration.ofSeconds(10);
    /** The AMQP 0-9-1 protocol header a client sends first. */
    private static final byte[] AMQP_HEADER = {'A', 'M', 'Q', 'P', 0, 0, 9, 1};
    private static final int MAX_FRAME = 128 * 1024;

    private final CredentialSource credentials;
    private final String host;
    private final int port;
    private final Optional<String> expectedServer;
    private final String virtualHost;
    private final AuditLog audit;

    ListenerProbe(CredentialSource credentials, String host, int port, Optional<String> expectedServer,
            String virtualHost, AuditLog audit) {
        this.credentials = credentials;
        this.host = host;
        this.port = port;
        this.expectedServer = expectedServer;
        this.virtualHost = virtualHost;
        this.audit = audit;
    }

    RabbitMqDrift probe() {
        MtlsContext tls = context(false);
        // Logged in over TLS 1.3 (the context allows nothing else) with EXTERNAL, or a typed, audited refusal.
        RabbitMqConnections.builder(tls).host(host).port(port).virtualHost(virtualHost).timeout(TIMEOUT)
                .auditLog(audit).build().connect("zt-drift-probe").connection().abort();
        List<Finding> findings = new ArrayList<>();
        String listener = "listener " + host + ":" + port;
        try {
            List<String> mechanisms = mechanisms(tls.socketFactory());
            if (!mechanisms.equals(List.of("EXTERNAL"))) {
                findings.add(new Finding(Kind.LISTENER_WEAKER, listener, "offers the login mechanisms " + mechanisms
                        + ", the policy renders EXTERNAL only: set auth_mechanisms.1 = EXTERNAL and no other"));
            }
        } catch (IOException e) {
            throw new RabbitMqException(RabbitMqException.Reason.CONNECTION_FAILED, "could not read the login"
                    + " mechanisms the " + listener + " offers (" + RabbitMqConnections.describe(e) + ")", e);
        }
        MtlsContext weak = context(true);
        try (SSLSocket socket = connect(weak.socketFactory())) {
            socket.setEnabledProtocols(new String[] {"TLSv1.2"});
            socket.startHandshake();
            findings.add(new Finding(Kind.LISTENER_WEAKER, listener, "accepted a TLS 1.2 handshake: set"
                    + " ssl_options.versions.1 = tlsv1.3 and no other version"));
        } catch (IOException refused) {
            // refused, as rendered
        }
        try {
            SSLContext anonymous = SSLContext.getInstance("TLSv1.3");
            anonymous.init(null, new TrustManager[] {tls.trustManager()}, null);
            mechanisms(anonymous.getSocketFactory());
            findings.add(new Finding(Kind.LISTENER_WEAKER, listener, "accepted a client without a certificate: set"
                    + " ssl_options.verify = verify_peer and ssl_options.fail_if_no_peer_cert = true"));
        } catch (IOException refused) {
            // refused, as rendered
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the JDK has no TLS 1.3 context", e);
        }
        return new RabbitMqDrift(findings);
    }

    private MtlsContext context(boolean allowTls12) {
        MtlsContext.Builder builder = MtlsContext.client(credentials).auditLog(audit);
        expectedServer.ifPresent(builder::expectedServer);
        if (allowTls12) {
            builder.allowTls12();
        }
        return builder.build();
    }

    private SSLSocket connect(SSLSocketFactory factory) throws IOException {
        Socket plain = new Socket();
        try {
            plain.connect(new InetSocketAddress(host, port), (int) TIMEOUT.toMillis());
            plain.setSoTimeout((int) TIMEOUT.toMillis());
            return (SSLSocket) factory.createSocket(plain, host, port, true);
        } catch (IOException | RuntimeException e) {
            plain.close();
            throw e;
        }
    }

    /** The mechanisms of the broker's {@code Connection.Start}, after a handshake with {@code factory}. */
    private List<String> mechanisms(SSLSocketFactory factory) throws IOException {
        try (SSLSocket socket = connect(factory)) {
            OutputStream out = socket.getOutputStream();
            out.write(AMQP_HEADER);
            out.flush();
            DataInputStream in = new DataInputStream(socket.getInputStream());
            int type = in.readUnsignedByte();
            int channel = in.readUnsignedShort();
            int size = in.readInt();
            if (type != 1 || channel != 0 || size < 0 || size > MAX_FRAME) {
                throw new IOException("the listener did not answer with an AMQP 0-9-1 method frame");
            }
            byte[] payload = new byte[size];
            in.readFully(payload);
            ByteBuffer start = ByteBuffer.wrap(payload);
            short classId = start.getShort();
            short methodId = start.getShort();
            if (classId != 10 || methodId != 10) {
                throw new IOException("the listener did not answer with Connection.Start");
            }
            start.position(start.position() + 2); // version-major, version-minor
            int serverProperties = start.getInt();
            start.position(start.position() + serverProperties);
            byte[] mechanisms = new byte[start.getInt()];
            start.get(mechanisms);
            return Arrays.stream(new String(mechanisms, StandardCharsets.US_ASCII).split(" "))
                    .filter(mechanism -> !mechanism.isEmpty()).sorted().toList();
        } catch (RuntimeException e) {
            throw new IOException("the listener's Connection.Start is malformed (" + e + ")", e);
        }
    }
}
