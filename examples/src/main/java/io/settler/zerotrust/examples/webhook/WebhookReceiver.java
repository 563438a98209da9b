package io.settler.zerotrust.examples.webhook;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsParameters;
import com.sun.net.httpserver.HttpsServer;
import io.settler.zerotrust.credentials.TlsIdentity;
import io.settler.zerotrust.examples.Deployment;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The demo's stand-in for a customer's webhook endpoint: an HTTPS server (TLS 1.3, server
 * certificate {@code receiver.crt}/{@code .key} from the deployment, no client certificate asked
 * for, as on the internet) on 127.0.0.1 that accepts {@code POST /hooks} only when its
 * {@value WebhookSignature#HEADER} header verifies against the shared secret
 * ({@link Deployment#webhookSigningSecret()}) within {@link #TOLERANCE}: {@code 204} then, {@code 401}
 * for a missing, malformed, stale or wrong signature (the payload is then dropped).
 *
 * <pre>{@code
 * WebhookReceiver receiver = WebhookReceiver.start(deployment);  // port: receiver.port, or a free one
 * deployment = deployment.withEndpoint("receiver.url", receiver.url());
 * ...
 * receiver.deliveries();  // the verified payloads, in arrival order
 * }</pre>
 *
 * <p>Thread-safe; {@link #close()} stops it.
 */
public final class WebhookReceiver implements AutoCloseable {

    /** The path webhooks are posted to. */
    public static final String PATH = "/hooks";
    /** How far a signature's timestamp may be from now. */
    public static final Duration TOLERANCE = Duration.ofMinutes(5);

    private static final Logger LOG = LoggerFactory.getLogger(WebhookReceiver.class);
    private static final int MAX_BODY_BYTES = 64 * 1024;

    private final HttpsServer server;
    private final ExecutorService executor;
    private final WebhookSignature signature;
    private final List<String> deliveries = new CopyOnWriteArrayList<>();
    private final AtomicInteger rejected = new AtomicInteger();
    private final AtomicBoolean closed = new AtomicBoolean();

    private WebhookReceiver(Deployment deployment) throws IOException {
        this.signature = WebhookSignature.of(Clock.systemUTC(), deployment.webhookSigningSecret());
        Path directory = deployment.directory();
        TlsIdentity identity =
                TlsIdentity.fromPem(directory.resolve("receiver.crt"), directory.resolve("receiver.key"));
        InetAddress loopback = InetAddress.getByAddress(new byte[] {127, 0, 0, 1}); // 127.0.0.1, no lookup
        this.server = HttpsServer.create(new InetSocketAddress(loopback, deployment.listenPort("receiver")), 16);
        server.setHttpsConfigurator(new HttpsConfigurator(WebhookTls.server(identity)) {
            @Override
            public void configure(HttpsParameters parameters) {
                parameters.setSSLParameters(WebhookTls.serverParameters());
            }
        });
        this.executor = Executors.newFixedThreadPool(2, runnable -> {
            Thread thread = new Thread(runnable, "webhook-receiver");
            thread.setDaemon(true);
            return thread;
        });
        server.setExecutor(executor);
        server.createContext("/", this::handle);
        server.start();
    }

    /**
     * Starts the receiver on 127.0.0.1, port {@code receiver.port} of the deployment's endpoints
     * (0 or missing: a free port).
     *
     * @throws UncheckedIOException if the port cannot be bound
     */
    public static WebhookReceiver start(Deployment deployment) {
        Objects.requireNonNull(deployment, "deployment");
        try {
            return new WebhookReceiver(deployment);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start the webhook receiver on 127.0.0.1", e);
        }
    }

    /**
     * Runs the receiver until Ctrl-C.
     *
     * @param args the deployment directory
     */
    public static void main(String[] args) {
        if (args.length != 1) {
            System.err.println("usage: WebhookReceiver <deployment directory>");
            System.exit(2);
        }
        WebhookReceiver receiver = start(Deployment.at(Path.of(args[0])));
        Runtime.getRuntime().addShutdownHook(new Thread(receiver::close, "webhook-receiver-shutdown"));
        System.out.println("webhook receiver listening at " + receiver.url() + "; Ctrl-C stops it");
    }

    /** The port it listens on. */
    public int port() {
        return server.getAddress().getPort();
    }

    /** Where to post webhooks: {@code https://127.0.0.1:<port>/hooks}, the deployment's {@code receiver.url}. */
    public String url() {
        return "https://127.0.0.1:" + port() + PATH;
    }

    /** The payloads whose signature verified, as UTF-8 text, in arrival order. */
    public List<String> deliveries() {
        return List.copyOf(deliveries);
    }

    /** How many posts to {@value #PATH} were refused for their signature. */
    public int rejected() {
        return rejected.get();
    }

    /** Stops the server; idempotent. */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            server.stop(0);
            executor.shutdownNow();
            try {
                executor.awaitTermination(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public String toString() {
        return "WebhookReceiver[" + url() + ", " + deliveries.size() + " delivered, " + rejected + " rejected]";
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            if (!exchange.getRequestURI().getPath().equals(PATH)) {
                exchange.sendResponseHeaders(404, -1);
                return;
            }
            if (!exchange.getRequestMethod().equals("POST")) {
                exchange.getResponseHeaders().set("Allow", "POST");
                exchange.sendResponseHeaders(405, -1);
                return;
            }
            byte[] body = readBody(exchange.getRequestBody());
            if (body == null) {
                exchange.sendResponseHeaders(413, -1);
                return;
            }
            List<String> headers = exchange.getRequestHeaders().get(WebhookSignature.HEADER);
            try {
                if (headers == null || headers.size() != 1) {
                    throw new WebhookSignatureException("expected exactly one " + WebhookSignature.HEADER + " header");
                }
                signature.verify(headers.get(0), body, TOLERANCE);
            } catch (WebhookSignatureException e) {
                rejected.incrementAndGet();
                LOG.warn("webhook refused: {}", e.getMessage());
                exchange.sendResponseHeaders(401, -1);
                return;
            }
            deliveries.add(new String(body, StandardCharsets.UTF_8));
            exchange.sendResponseHeaders(204, -1);
        }
    }

    /** The body, or null when it exceeds {@link #MAX_BODY_BYTES}. */
    private static byte @Nullable [] readBody(InputStream in) throws IOException {
        byte[] body = in.readNBytes(MAX_BODY_BYTES + 1);
        return body.length > MAX_BODY_BYTES ? null : body;
    }
}
