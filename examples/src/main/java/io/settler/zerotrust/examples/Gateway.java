package io.settler.zerotrust.examples;

import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import io.settler.zerotrust.credentials.FileCredentialSource;
import io.settler.zerotrust.netty.MtlsHttpClient;
import io.settler.zerotrust.netty.NettyMtls;
import io.settler.zerotrust.tls.MtlsContext;
import io.settler.zerotrust.token.ServiceTokens;
import io.settler.zerotrust.token.TokenRequest;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * The demo's gateway: the Zone 1 caller of the API server. It has authenticated an end user (not
 * shown) and passes the user's tenant as the {@code tenant} claim of a short-lived service token,
 * over mTLS with its own certificate, insisting on the API server's identity.
 */
final class Gateway implements AutoCloseable {

    private static final Pattern ID = Pattern.compile("\"id\"\\s*:\\s*\"?(\\d+)");

    private final String apiIdentity;
    private final String host;
    private final int port;
    private final FileCredentialSource credentials;
    private final ServiceTokens tokens;
    private final MtlsHttpClient http;

    Gateway(Deployment deployment) {
        this.apiIdentity = deployment.identity("api");
        this.host = deployment.address("api").getHostString();
        this.port = deployment.address("api").getPort();
        this.credentials = deployment.credentials("gateway");
        this.tokens = ServiceTokens.builder().identity(deployment.identity("gateway"))
                .keys(deployment.newTokenKeys("gateway")).policy(deployment.policy())
                .auditLog(deployment.auditLog()).build();
        this.http = MtlsHttpClient.builder(NettyMtls.builder(MtlsContext.client(credentials)
                        .expectedServer(apiIdentity).auditLog(deployment.auditLog()).build()).build())
                .timeout(Duration.ofSeconds(10)).build();
    }

    /** Creates an order for {@code tenant}; its id. */
    String createOrder(String tenant, String json) throws Exception {
        String body = expect(201, send(HttpMethod.POST, "/orders", token(tenant, "orders:write"), json));
        Matcher id = ID.matcher(body);
        if (!id.find()) {
            throw new IOException("201 without an order id: " + body);
        }
        return id.group(1);
    }

    /** Sends a create request with no {@code Authorization} header. */
    String createOrderWithoutToken(String json) throws Exception {
        return expect(201, send(HttpMethod.POST, "/orders", null, json));
    }

    /** Sends a create request with a token carrying {@code scope} only. */
    String createOrderWithScope(String tenant, String scope, String json) throws Exception {
        return expect(201, send(HttpMethod.POST, "/orders", token(tenant, scope), json));
    }

    /** Reads an order as {@code tenant}; the response body. */
    String readOrder(String tenant, String id) throws Exception {
        return expect(200, send(HttpMethod.GET, "/orders/" + id, token(tenant, "orders:read"), null));
    }

    private String token(String tenant, String scope) {
        return tokens.mint(TokenRequest.to(apiIdentity).scopes(scope).claim("tenant", tenant)
                .lifetime(Duration.ofMinutes(2)).build());
    }

    private MtlsHttpClient.Response send(HttpMethod method, String path, @Nullable String token, @Nullable String json)
            throws Exception {
        FullHttpRequest request = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, method, path,
                json == null ? Unpooled.EMPTY_BUFFER : Unpooled.copiedBuffer(json, StandardCharsets.UTF_8));
        if (json != null) {
            request.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON);
        }
        if (token != null) {
            request.headers().set(HttpHeaderNames.AUTHORIZATION, "Bearer " + token);
        }
        return http.send(host, port, request).get();
    }

    private static String expect(int status, MtlsHttpClient.Response response) throws IOException {
        if (response.status() != status) {
            throw new IOException("HTTP " + response.status()
                    + (response.bodyText().isEmpty() ? "" : " " + response.bodyText()));
        }
        return response.bodyText();
    }

    @Override
    public void close() {
        http.close();
        credentials.close();
    }
}
