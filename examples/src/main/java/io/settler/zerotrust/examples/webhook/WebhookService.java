package io.settler.zerotrust.examples.webhook;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.settler.zerotrust.credentials.FileCredentialSource;
import io.settler.zerotrust.credentials.TrustBundle;
import io.settler.zerotrust.examples.Deployment;
import io.settler.zerotrust.examples.ServiceEndpoint;
import io.settler.zerotrust.netty.ConnectionExpiryHandler;
import io.settler.zerotrust.netty.RateLimitHandler;
import io.settler.zerotrust.netty.RouteScopes;
import io.settler.zerotrust.netty.ServiceTokenAuthHandler;
import io.settler.zerotrust.netty.SourceNetworkFilter;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The webhook service: takes events from the job worker over mutual TLS and delivers them, signed,
 * to the customer's endpoint ({@code receiver.url}).
 *
 * <p>Inbound, on 127.0.0.1 (port {@code webhook.port}, or a free one), each connection passes in
 * order: a loopback-only {@link SourceNetworkFilter} (before any TLS byte); mTLS 1.3 admitting only
 * the peers the policy lets call {@value #SERVICE} (the worker); {@link ConnectionExpiryHandler};
 * HTTP; {@link RateLimitHandler}; and {@link ServiceTokenAuthHandler}, which wants {@code POST}
 * {@value #PATH} with a token minted by the worker for this service with scope {@value #SCOPE},
 * <em>bound to the certificate of the connection it arrives on</em> (unbound tokens are refused, so
 * a token that leaked from the worker is useless without the worker's private key).
 *
 * <p>Outbound, the body (a JSON object) is signed with {@link WebhookSignature} and the
 * deployment's webhook secret and posted to {@code receiver.url} over TLS 1.3 (trusting
 * {@code ca.crt}, the host name checked): {@code 202} when the receiver answered 2xx, {@code 502}
 * otherwise, so the worker retries the job.
 *
 * <pre>{@code
 * WebhookService webhook = WebhookService.start(deployment);
 * deployment = deployment.withEndpoint("webhook.port", Integer.toString(webhook.port()));
 * }</pre>
 *
 * <p>{@link #close()} stops everything it started; idempotent.
 */
public final class WebhookService implements AutoCloseable {

    /** The service's name in the policy. */
    public static final String SERVICE = "webhook";
    /** The one route. */
    public static final String PATH = "/send";
    /** The scope {@value #PATH} needs. */
    public static final String SCOPE = "webhook:send";
    /** Who may call it: the service whose published keys sign the tokens. */
    public static final String CALLER = "worker";

    private static final Logger LOG = LoggerFactory.getLogger(WebhookService.class);
    private static final int MAX_BODY_BYTES = 64 * 1024;
    private static final Duration RECEIVER_TIMEOUT = Duration.ofSeconds(10);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final FileCredentialSource credentials;
    private final ServiceEndpoint endpoint;
    private final HttpClient receiverClient;
    private final URI receiver;
    private final WebhookSignature signature;
    private final AtomicBoolean closed = new AtomicBoolean();

    private WebhookService(Deployment deployment, FileCredentialSource credentials) {
        this.credentials = credentials;
        this.receiver = receiverUrl(deployment);
        this.signature = WebhookSignature.of(Clock.systemUTC(), deployment.webhookSigningSecret());
        this.receiverClient = HttpClient.newBuilder()
                .sslContext(WebhookTls.client(TrustBundle.fromPem(deployment.directory().resolve("ca.crt"))))
                .sslParameters(WebhookTls.clientParameters())
                .connectTimeout(RECEIVER_TIMEOUT)
                .followRedirects(HttpClient.Redirect.NEVER)
                .build();

        this.endpoint = ServiceEndpoint.builder(deployment, SERVICE, CALLER, credentials)
                .routes(RouteScopes.builder().route(HttpMethod.POST, PATH, SCOPE).build())
                .requireCertificateBinding()              // a leaked token is useless without the worker's key
                .application(new Deliver())
                .maxRequestBytes(MAX_BODY_BYTES)
                .start();
    }

    /**
     * Starts the service: its certificate {@code webhook.crt} (followed for rotation), the policy's
     * peers, the worker's published token keys, the receiver at {@code receiver.url}.
     *
     * @throws IllegalStateException if {@code receiver.url} is missing or not an https URL
     */
    public static WebhookService start(Deployment deployment) {
        Objects.requireNonNull(deployment, "deployment");
        FileCredentialSource credentials = deployment.credentials(SERVICE);
        try {
            return new WebhookService(deployment, credentials);
        } catch (RuntimeException e) {
            credentials.close();
            throw e;
        }
    }

    /**
     * Runs the service until Ctrl-C.
     *
     * @param args the deployment directory
     */
    public static void main(String[] args) {
        if (args.length != 1) {
            System.err.println("usage: WebhookService <deployment directory>");
            System.exit(2);
        }
        WebhookService service = start(Deployment.at(Path.of(args[0])));
        Runtime.getRuntime().addShutdownHook(new Thread(service::close, "webhook-service-shutdown"));
        System.out.println("webhook service listening on 127.0.0.1:" + service.port() + "; Ctrl-C stops it");
    }

    /** The port it listens on. */
    public int port() {
        return endpoint.port();
    }

    /** Stops listening, the event loop, the outbound client and the credential watcher; idempotent. */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            try {
                endpoint.close();
            } finally {
                credentials.close();
            }
        }
    }

    @Override
    public String toString() {
        return "WebhookService[127.0.0.1:" + port() + " -> " + receiver + "]";
    }

    private static URI receiverUrl(Deployment deployment) {
        String url = deployment.endpoint("receiver.url");
        URI uri;
        try {
            uri = URI.create(url);
        } catch (IllegalArgumentException e) {
            throw new IllegalStateException("receiver.url is not a URL: " + e.getMessage(), e);
        }
        if (!"https".equals(uri.getScheme()) || uri.getHost() == null || uri.getUserInfo() != null) {
            throw new IllegalStateException("receiver.url must be an https URL without credentials, e.g."
                    + " https://127.0.0.1:8443/hooks; webhooks are never sent in plaintext");
        }
        return uri;
    }

    /** The application: what reaches it passed mTLS, the token, its binding and its scope. */
    @ChannelHandler.Sharable
    private final class Deliver extends SimpleChannelInboundHandler<FullHttpRequest> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
            byte[] body = ByteBufUtil.getBytes(request.content());
            boolean keepAlive = HttpUtil.isKeepAlive(request);
            if (!isJsonObject(body)) {
                reply(ctx, HttpResponseStatus.BAD_REQUEST, keepAlive);
                return;
            }
            HttpRequest post = HttpRequest.newBuilder(receiver)
                    .timeout(RECEIVER_TIMEOUT)
                    .header("Content-Type", "application/json")
                    .header(WebhookSignature.HEADER, signature.sign(body))
                    .POST(HttpRequest.BodyPublishers.ofByteArray(body))
                    .build();
            // Not on the event loop: the receiver may be slow.
            receiverClient.sendAsync(post, HttpResponse.BodyHandlers.discarding()).whenComplete((response, failure) -> {
                if (failure == null && response.statusCode() / 100 == 2) {
                    reply(ctx, HttpResponseStatus.ACCEPTED, keepAlive);
                } else {
                    LOG.warn("webhook delivery to {} failed: {}", receiver, failure == null
                            ? "status " + response.statusCode()
                            : failure.getClass().getSimpleName() + ": " + failure.getMessage());
                    reply(ctx, HttpResponseStatus.BAD_GATEWAY, keepAlive);
                }
            });
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            LOG.debug("webhook connection failed: {}", cause.toString());
            ctx.close();
        }

        private boolean isJsonObject(byte[] body) {
            try {
                JsonNode node = JSON.readTree(body);
                return node != null && node.isObject();
            } catch (IOException e) {
                return false;
            }
        }

        private void reply(ChannelHandlerContext ctx, HttpResponseStatus status, boolean keepAlive) {
            FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status);
            HttpUtil.setContentLength(response, 0);
            if (keepAlive) {
                response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
                ctx.writeAndFlush(response);
            } else {
                ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
            }
        }
    }
}
