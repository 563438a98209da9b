package io.settler.zerotrust.netty;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.settler.zerotrust.identity.ServiceIdentity;
import io.settler.zerotrust.token.JwksSource;
import io.settler.zerotrust.token.KeySet;
import io.settler.zerotrust.token.ServiceTokens;
import io.settler.zerotrust.token.TokenAlgorithm;
import io.settler.zerotrust.token.TokenKey;
import io.settler.zerotrust.token.VerifiedToken;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.RejectedExecutionException;
import org.junit.jupiter.api.Test;

/** The handler's parsing and streamed-body handling, on an {@code EmbeddedChannel}. */
class ServiceTokenAuthHandlerTest {

    private final TestPki pki = new TestPki();

    @Test
    void dropsBodyOfStreamedRequestItRefusedAndServesTheNextOne() {
        KeySet keys = KeySet.builder().signingKey(TokenKey.generate(TokenAlgorithm.ES256, "worker-1")).build();
        String token = ServiceTokens.builder().identity(TestPki.WORKER_ID).keys(keys).build()
                .mint("spiffe://example.org/api", List.of("jobs:write"));
        ServiceTokens verifier = ServiceTokens.builder().identity("spiffe://example.org/api")
                .verificationKeys(KeySet.fromJwks(keys.toJwks()).pinnedTo(TestPki.WORKER_ID))
                .trustIssuers(TestPki.WORKER_ID).auditLog(pki.audit).build();
        ServiceTokenAuthHandler auth = ServiceTokenAuthHandler.builder(verifier,
                RouteScopes.builder().route(HttpMethod.POST, "/jobs", "jobs:write").build())
                .auditLog(pki.audit).build();
        EmbeddedChannel channel = new EmbeddedChannel(auth);
        channel.attr(PeerIdentityHandler.PEER_CERTIFICATE).set(TestPki.WORKER.certificate());
        channel.attr(PeerIdentityHandler.PEER_IDENTITY).set(ServiceIdentity.parse(TestPki.WORKER_ID));

        channel.writeInbound(post(null), body("secret"), LastHttpContent.EMPTY_LAST_CONTENT);
        assertThat(channel.<Object>readInbound()).isNull();
        FullHttpResponse refused = channel.readOutbound();
        assertThat(refused.status().code()).isEqualTo(401);
        assertThat(refused.headers().get(HttpHeaderNames.WWW_AUTHENTICATE)).isEqualTo("Bearer");
        refused.release();

        channel.writeInbound(post("Bearer " + token), body("job"), new DefaultLastHttpContent());
        assertThat(channel.<Object>readInbound()).isInstanceOf(HttpRequest.class);
        assertThat(ServiceTokenAuthHandler.verifiedToken(channel)).get()
                .satisfies(verified -> assertThat(verified.scopes()).containsExactly("jobs:write"));
        DefaultHttpContent content = channel.readInbound();
        assertThat(content.content().toString(StandardCharsets.UTF_8)).isEqualTo("job");
        content.release();
        LastHttpContent last = channel.readInbound();
        last.release();
        assertThat(pki.audit.events()).filteredOn(event -> event.action().equals("request.refused")).hasSize(1);
        channel.finishAndReleaseAll();
    }

    /**
     * Issue 14, finding 11c: a token whose key is still being fetched is verified off the event loop;
     * the channel holds what it read meanwhile (the rest of that request, and the next request) and
     * settles everything in order once the key is there. Fetch and verification run when the test
     * says, so nothing here depends on timing.
     */
    @Test
    void holdsTheChannelsLaterMessagesWhileATokenWaitsForItsKeyAndKeepsTheirOrder() {
        KeySet keys = KeySet.builder().signingKey(TokenKey.generate(TokenAlgorithm.ES256, "worker-1")).build();
        String token = ServiceTokens.builder().identity(TestPki.WORKER_ID).keys(keys).build()
                .mint("spiffe://example.org/api", List.of("jobs:write"));
        Deque<Runnable> fetches = new ArrayDeque<>();
        Deque<Runnable> verifications = new ArrayDeque<>();
        JwksSource published = JwksSource.builder(keys::toJwks).pinnedTo(TestPki.WORKER_ID).executor(fetches::add)
                .auditLog(pki.audit).build();
        ServiceTokens verifier = ServiceTokens.builder().identity("spiffe://example.org/api")
                .verificationKeys(published).trustIssuers(TestPki.WORKER_ID).auditLog(pki.audit).build();
        ServiceTokenAuthHandler auth = ServiceTokenAuthHandler.builder(verifier,
                RouteScopes.builder().route(HttpMethod.POST, "/jobs", "jobs:write").build())
                .verificationExecutor(verifications::add).auditLog(pki.audit).build();
        List<VerifiedToken> seen = new ArrayList<>();
        EmbeddedChannel channel = new EmbeddedChannel(auth, new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                if (msg instanceof HttpRequest) {
                    ServiceTokenAuthHandler.verifiedToken(ctx.channel()).ifPresent(seen::add);
                }
                ctx.fireChannelRead(msg);
            }
        });
        channel.attr(PeerIdentityHandler.PEER_CERTIFICATE).set(TestPki.WORKER.certificate());
        channel.attr(PeerIdentityHandler.PEER_IDENTITY).set(ServiceIdentity.parse(TestPki.WORKER_ID));

        channel.writeInbound(post("Bearer " + token), body("job"), new DefaultLastHttpContent(), post(null),
                body("secret"), LastHttpContent.EMPTY_LAST_CONTENT);
        assertThat(channel.<Object>readInbound()).as("held, not passed on").isNull();
        assertThat(channel.<Object>readOutbound()).as("nor refused").isNull();
        assertThat(channel.config().isAutoRead()).as("the channel stops reading meanwhile").isFalse();
        assertThat(fetches).as("the key is being fetched").hasSize(1);
        assertThat(verifications).hasSize(1);
        assertThat(pki.audit.events()).noneMatch(event -> event.action().equals("token.rejected"));

        fetches.poll().run();          // the JWKS arrives
        verifications.poll().run();    // the token is verified off the event loop
        channel.runPendingTasks();     // and the result settles on it

        assertThat(channel.<Object>readInbound()).isInstanceOf(HttpRequest.class);
        assertThat(seen).singleElement().satisfies(verified -> assertThat(verified.service())
                .hasToString(TestPki.WORKER_ID));
        DefaultHttpContent content = channel.readInbound();
        assertThat(content.content().toString(StandardCharsets.UTF_8)).isEqualTo("job");
        content.release();
        LastHttpContent last = channel.readInbound();
        last.release();
        assertThat(channel.<Object>readInbound()).as("the second request's body is dropped").isNull();
        FullHttpResponse refused = channel.readOutbound();
        assertThat(refused.status().code()).as("the second request had no token").isEqualTo(401);
        refused.release();
        assertThat(channel.config().isAutoRead()).isTrue();
        assertThat(pki.audit.events()).filteredOn(event -> event.action().equals("request.refused")).singleElement()
                .satisfies(event -> assertThat(event.fields()).containsEntry("reason", "MISSING_TOKEN"));
        channel.finishAndReleaseAll();
    }

    @Test
    void refusesWith503WhenTheVerificationExecutorIsFull() {
        KeySet keys = KeySet.builder().signingKey(TokenKey.generate(TokenAlgorithm.ES256, "worker-1")).build();
        String token = ServiceTokens.builder().identity(TestPki.WORKER_ID).keys(keys).build()
                .mint("spiffe://example.org/api", List.of("jobs:write"));
        JwksSource neverFetched = JwksSource.builder(keys::toJwks).pinnedTo(TestPki.WORKER_ID)
                .executor(fetch -> { }).auditLog(pki.audit).build();
        ServiceTokens verifier = ServiceTokens.builder().identity("spiffe://example.org/api")
                .verificationKeys(neverFetched).trustIssuers(TestPki.WORKER_ID).auditLog(pki.audit).build();
        assertRefusedWith503WhenTheExecutorIsFull(verifier, token);
    }

    /** Issue 14, finding 11c: a replay guard that may block is asked on the executor too, with the same 503. */
    @Test
    void refusesWith503WhenTheVerificationExecutorIsFullForABlockingReplayCheck() {
        KeySet keys = KeySet.builder().signingKey(TokenKey.generate(TokenAlgorithm.ES256, "worker-1")).build();
        String token = ServiceTokens.builder().identity(TestPki.WORKER_ID).keys(keys).build()
                .mint("spiffe://example.org/api", List.of("jobs:write"));
        List<String> asked = new ArrayList<>();
        ServiceTokens verifier = ServiceTokens.builder().identity("spiffe://example.org/api")
                .verificationKeys(KeySet.fromJwks(keys.toJwks()).pinnedTo(TestPki.WORKER_ID))
                .trustIssuers(TestPki.WORKER_ID).replayGuard((issuer, jti, expiresAt) -> asked.add(jti))
                .auditLog(pki.audit).build();
        assertRefusedWith503WhenTheExecutorIsFull(verifier, token);
        assertThat(asked).as("the replay guard was never asked on the event loop").isEmpty();
    }

    private void assertRefusedWith503WhenTheExecutorIsFull(ServiceTokens verifier, String token) {
        ServiceTokenAuthHandler auth = ServiceTokenAuthHandler.builder(verifier,
                RouteScopes.builder().route(HttpMethod.POST, "/jobs", "jobs:write").build())
                .verificationExecutor(work -> {
                    throw new RejectedExecutionException("full");
                }).auditLog(pki.audit).build();
        EmbeddedChannel channel = new EmbeddedChannel(auth);
        channel.attr(PeerIdentityHandler.PEER_CERTIFICATE).set(TestPki.WORKER.certificate());
        channel.attr(PeerIdentityHandler.PEER_IDENTITY).set(ServiceIdentity.parse(TestPki.WORKER_ID));

        channel.writeInbound(post("Bearer " + token), body("job"), LastHttpContent.EMPTY_LAST_CONTENT);
        FullHttpResponse refused = channel.readOutbound();
        assertThat(refused.status().code()).isEqualTo(503);
        refused.release();
        assertThat(channel.<Object>readInbound()).isNull();
        assertThat(channel.config().isAutoRead()).isTrue();
        assertThat(pki.audit.events()).anySatisfy(event -> assertThat(event.fields())
                .containsEntry("reason", "VERIFIER_FAILED"));
        channel.finishAndReleaseAll();
    }

    private static HttpRequest post(String authorization) {
        HttpRequest request = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, "/jobs");
        HttpUtil.setTransferEncodingChunked(request, true);
        HttpUtil.setKeepAlive(request, true);
        if (authorization != null) {
            request.headers().set(HttpHeaderNames.AUTHORIZATION, authorization);
        }
        return request;
    }

    private static DefaultHttpContent body(String text) {
        return new DefaultHttpContent(Unpooled.copiedBuffer(text, StandardCharsets.UTF_8));
    }
}
