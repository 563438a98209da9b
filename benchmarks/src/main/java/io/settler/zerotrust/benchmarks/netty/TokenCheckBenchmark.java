package io.settler.zerotrust.benchmarks.netty;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.ReferenceCountUtil;
import io.settler.zerotrust.audit.AuditLog;
import io.settler.zerotrust.identity.ServiceIdentity;
import io.settler.zerotrust.netty.PeerIdentityHandler;
import io.settler.zerotrust.netty.RouteScopes;
import io.settler.zerotrust.netty.ServiceTokenAuthHandler;
import io.settler.zerotrust.pki.DevCertificateAuthority;
import io.settler.zerotrust.pki.IssuedCertificate;
import io.settler.zerotrust.token.KeySet;
import io.settler.zerotrust.token.ServiceTokens;
import io.settler.zerotrust.token.TokenAlgorithm;
import io.settler.zerotrust.token.TokenKey;
import io.settler.zerotrust.token.TokenRequest;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * The per-request cost of {@link ServiceTokenAuthHandler} alone, without sockets or TLS (which make
 * {@link NettyRequestBenchmark} noisy on a shared machine): a decoded HTTP request with an ES256
 * {@code Authorization: Bearer} token passes an {@code EmbeddedChannel} whose peer certificate and
 * identity are set as the handshake would set them.
 *
 * <p>{@code baseline}: the same request through a channel with only the sink. {@code tokenCheck}:
 * through the handler first (verified-token cache on, as with a {@code TokenSource} reusing its
 * token; route lookup, scopes, identity and, with {@code bound=true}, the certificate binding are
 * checked per request). Lower is better (nanoseconds per request).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class TokenCheckBenchmark {

    /** Whether the token is bound to the peer certificate (RFC 8705). */
    @Param({"false", "true"})
    public boolean bound;

    private EmbeddedChannel plain;
    private EmbeddedChannel checked;
    private String authorization;

    /** Mints the token and builds both channels. */
    @Setup
    public void setUp() {
        DevCertificateAuthority ca = DevCertificateAuthority.create("example.org");
        IssuedCertificate worker = ca.leaf("worker").issue();
        AuditLog noop = event -> { };
        KeySet workerKeys = KeySet.builder().signingKey(TokenKey.generate(TokenAlgorithm.ES256, "worker-1")).build();
        ServiceTokens minter = ServiceTokens.builder().identity("spiffe://example.org/worker").keys(workerKeys)
                .auditLog(noop).build();
        TokenRequest.Builder request = TokenRequest.to("spiffe://example.org/api").scopes(List.of("jobs:read"));
        if (bound) {
            request.boundTo(worker.certificate());
        }
        authorization = "Bearer " + minter.mint(request.build());
        ServiceTokens verifier = ServiceTokens.builder().identity("spiffe://example.org/api")
                .verificationKeys(KeySet.fromJwks(workerKeys.toJwks()).pinnedTo("spiffe://example.org/worker"))
                .trustIssuers("spiffe://example.org/worker").auditLog(noop).build();
        RouteScopes routes = RouteScopes.builder().route(HttpMethod.GET, "/jobs", "jobs:read")
                .route(HttpMethod.POST, "/jobs", "jobs:write").anyMethod("/health").build();
        plain = new EmbeddedChannel(new Sink());
        checked = new EmbeddedChannel(ServiceTokenAuthHandler.builder(verifier, routes).auditLog(noop).build(),
                new Sink());
        checked.attr(PeerIdentityHandler.PEER_CERTIFICATE).set(worker.certificate());
        checked.attr(PeerIdentityHandler.PEER_IDENTITY).set(ServiceIdentity.parse("spiffe://example.org/worker"));
        if (baseline() != 1 || tokenCheck() != 1) {
            throw new IllegalStateException("the request did not reach the application");
        }
    }

    /** The request through a channel without the handler. */
    @Benchmark
    public int baseline() {
        return send(plain);
    }

    /** The request through {@link ServiceTokenAuthHandler}. */
    @Benchmark
    public int tokenCheck() {
        return send(checked);
    }

    private int send(EmbeddedChannel channel) {
        FullHttpRequest request = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/jobs/42");
        request.headers().set(HttpHeaderNames.HOST, "api.internal").set(HttpHeaderNames.AUTHORIZATION, authorization);
        channel.writeInbound(request);
        Sink sink = channel.pipeline().get(Sink.class);
        int reached = sink.reached;
        sink.reached = 0;
        return reached;
    }

    /** The application: counts and releases what reaches it. */
    private static final class Sink extends ChannelInboundHandlerAdapter {
        int reached;

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            reached++;
            ReferenceCountUtil.release(msg);
        }
    }
}
