package io.settler.zerotrust.spring;

import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsExchange;
import com.sun.net.httpserver.HttpsParameters;
import com.sun.net.httpserver.HttpsServer;
import io.settler.zerotrust.credentials.CredentialSource;
import io.settler.zerotrust.credentials.TlsIdentity;
import io.settler.zerotrust.credentials.TrustBundle;
import io.settler.zerotrust.pki.IssuedCertificate;
import io.settler.zerotrust.policy.Policy;
import io.settler.zerotrust.tls.MtlsContext;
import io.settler.zerotrust.token.ServiceTokenException;
import io.settler.zerotrust.token.ServiceTokens;
import io.settler.zerotrust.token.VerifiedToken;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.net.ssl.SSLPeerUnverifiedException;

/**
 * The stock service the api calls in the client tests: a JDK HTTPS server on a loopback port with
 * the library's server context (TLS 1.3, client certificates authorized by the policy's entry for
 * stock), presenting {@code certificate}. It answers {@code 200 stock for <token's service> <scopes>}
 * when the bearer token verifies against the connection's certificate ({@code 302} to {@code /stock}
 * for {@code /moved}), {@code 401} otherwise, and
 * remembers each request's client certificate and bearer token.
 */
final class StockServer implements AutoCloseable {

    final List<X509Certificate> clientCertificates = new CopyOnWriteArrayList<>();
    final List<String> tokens = new CopyOnWriteArrayList<>();
    private final HttpsServer server;

    StockServer(TestZone zone, IssuedCertificate certificate, ServiceTokens verifier) {
        MtlsContext context = MtlsContext.server(
                CredentialSource.fixed(TlsIdentity.of(certificate.privateKey(), certificate.chain()),
                        TrustBundle.of(List.of(zone.ca.rootCertificate()))),
                Policy.fromJson(TestZone.POLICY).authorizerFor("stock")).build();
        try {
            server = HttpsServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        server.setHttpsConfigurator(new HttpsConfigurator(context.sslContext()) {
            @Override
            public void configure(HttpsParameters parameters) {
                parameters.setSSLParameters(context.sslParameters());
            }
        });
        server.createContext("/", exchange -> {
            try (exchange) {
                X509Certificate client = (X509Certificate) ((HttpsExchange) exchange).getSSLSession()
                        .getPeerCertificates()[0];
                clientCertificates.add(client);
                String authorization = exchange.getRequestHeaders().getFirst("Authorization");
                tokens.add(authorization == null ? "" : authorization);
                String body;
                int status;
                try {
                    VerifiedToken token = verifier.verify(authorization == null ? "" : authorization
                            .substring("Bearer ".length()), client);
                    status = 200;
                    body = "stock for " + token.service() + " " + token.scopes();
                    if (exchange.getRequestURI().getPath().equals("/moved")) {
                        exchange.getResponseHeaders().set("Location", "/stock");
                        status = 302;
                        body = "";
                    }
                } catch (ServiceTokenException | StringIndexOutOfBoundsException e) {
                    status = 401;
                    body = "";
                }
                byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
                exchange.sendResponseHeaders(status, bytes.length == 0 ? -1 : bytes.length);
                try (OutputStream out = exchange.getResponseBody()) {
                    out.write(bytes);
                }
            } catch (SSLPeerUnverifiedException e) {
                throw new IllegalStateException("the server context requires client certificates", e);
            }
        });
        server.start();
    }

    /** The https URL of the server. */
    String url() {
        return "https://127.0.0.1:" + server.getAddress().getPort();
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
