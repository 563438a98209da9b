package io.settler.zerotrust.spring;

import io.netty.channel.ChannelOption;
import io.netty.handler.ssl.SslContext;
import io.settler.zerotrust.audit.AuditLog;
import io.settler.zerotrust.credentials.CredentialSource;
import io.settler.zerotrust.netty.NettyMtls;
import io.settler.zerotrust.tls.MtlsContext;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import org.springframework.http.HttpMethod;
import org.springframework.http.client.reactive.ClientHttpConnector;
import org.springframework.http.client.reactive.ClientHttpRequest;
import org.springframework.http.client.reactive.ClientHttpResponse;
import org.springframework.http.client.reactive.ReactorClientHttpConnector;
import org.springframework.web.reactive.function.client.ClientRequest;
import org.springframework.web.reactive.function.client.ExchangeFilterFunction;
import org.springframework.web.reactive.function.client.WebClient;
import org.springframework.web.reactive.function.client.WebClientRequestException;
import reactor.core.publisher.Mono;
import reactor.netty.http.client.HttpClient;
import reactor.netty.resources.ConnectionProvider;

/**
 * The {@code WebClient} side of a {@link ZeroTrustClient}, in a class of its own so that
 * {@code ZeroTrustClient} loads without Spring WebFlux, Reactor Netty and netty-mtls: only the
 * auto-configuration makes one, and only when all three are on the class path.
 *
 * <p>The connector runs Reactor Netty's {@link HttpClient} on netty-mtls's {@link SslContext} built
 * from the client's {@link MtlsContext} (TLS 1.3, the service's rotating certificate, the audience's
 * SPIFFE identity required of the server, no resumed session), follows no redirect, and takes a new
 * connection pool after each credential rotation, so the next request opens a connection that
 * presents the new certificate; the previous pool is closed once its requests had time to finish.
 * The exchange filter asks the client's {@link ClientRequestGuard} for each request, as the
 * {@code RestClient} interceptor does. Thread-safe.
 */
final class ZeroTrustWebClient implements AutoCloseable {

    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);
    /** How long an idle pooled connection is kept. */
    private static final Duration MAX_IDLE = Duration.ofSeconds(30);
    /** How long a pool replaced by a rotation stays open for the requests that were taking it. */
    private static final Duration RETIRE_AFTER = Duration.ofSeconds(30);

    private final String name;
    private final MtlsContext context;
    private final SslContext sslContext;
    private final AtomicLong generations = new AtomicLong();
    private final List<ConnectionProvider> retiring = new CopyOnWriteArrayList<>();
    private volatile Generation current;
    private final AutoCloseable rotation;
    private final ClientHttpConnector connector;
    private final ExchangeFilterFunction filter;

    /** One connection pool and the connector on it: the connections made since one rotation. */
    private record Generation(ConnectionProvider pool, ClientHttpConnector connector) {
    }

    ZeroTrustWebClient(String name, MtlsContext context, CredentialSource credentials, ClientRequestGuard guard,
                       AuditLog audit) {
        this.name = name;
        this.context = context;
        this.sslContext = NettyMtls.builder(context).auditLog(audit).build().sslContext();
        this.current = newGeneration();
        this.rotation = credentials.onRotation(snapshot -> rotate());
        // Read per request (at subscription): after a rotation, requests go to the new pool.
        this.connector = new ClientHttpConnector() {
            @Override
            public Mono<ClientHttpResponse> connect(HttpMethod method, URI uri,
                    Function<? super ClientHttpRequest, Mono<Void>> requestCallback) {
                return Mono.defer(() -> current.connector().connect(method, uri, requestCallback));
            }
        };
        this.filter = (request, next) -> Mono.fromCallable(() -> guard.bearerToken(request.url()))
                .onErrorMap(ZeroTrustClientException.class, refusal -> new WebClientRequestException(refusal,
                        request.method(), request.url(), request.headers()))
                .flatMap(token -> next.exchange(ClientRequest.from(request)
                        .headers(headers -> headers.setBearerAuth(token)).build()));
    }

    private Generation newGeneration() {
        ConnectionProvider pool = ConnectionProvider.builder("zerotrust-" + name + "-" + generations.incrementAndGet())
                .maxIdleTime(MAX_IDLE).build();
        HttpClient http = HttpClient.create(pool)
                .secure(spec -> spec.sslContext(sslContext)
                        // Reactor Netty sets the HTTPS endpoint identification on each engine before this
                        // runs; ours matches the audience's SPIFFE ID itself, and the core context's own
                        // algorithm keeps the JDK from resuming a session (which would skip verification).
                        .handlerConfigurator(handler -> context.refuseResumption(handler.engine())))
                .followRedirect(false)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) CONNECT_TIMEOUT.toMillis());
        return new Generation(pool, new ReactorClientHttpConnector(http));
    }

    private synchronized void rotate() {
        Generation previous = current;
        current = newGeneration();
        retiring.add(previous.pool());
        Mono.delay(RETIRE_AFTER).then(Mono.defer(() -> dispose(previous.pool()))).subscribe();
    }

    private Mono<Void> dispose(ConnectionProvider pool) {
        retiring.remove(pool);
        return pool.disposeLater().onErrorComplete();
    }

    /** Connects over mutual TLS with the current certificate; see the class comment. */
    ClientHttpConnector connector() {
        return connector;
    }

    /** Refuses non-https URLs and adds the {@code Authorization: Bearer} token to each request. */
    ExchangeFilterFunction filter() {
        return filter;
    }

    /** {@code builder} with the base URL, the mutual-TLS connector and the token filter. */
    WebClient.Builder customize(WebClient.Builder builder, URI baseUrl) {
        return builder.baseUrl(baseUrl.toString()).clientConnector(connector).filter(filter);
    }

    /** Stops following rotations and closes the connection pools. */
    @Override
    public synchronized void close() {
        try {
            rotation.close();
        } catch (Exception e) {
            throw new IllegalStateException("cannot stop following credential rotations", e);
        } finally {
            for (ConnectionProvider pool : retiring) {
                pool.dispose();
            }
            retiring.clear();
            current.pool().dispose();
        }
    }
}
