package io.settler.zerotrust.spring;

import io.settler.zerotrust.identity.ServiceIdentity;
import io.settler.zerotrust.token.TokenSource;
import java.net.URI;
import java.util.List;
import org.jspecify.annotations.Nullable;
import org.springframework.boot.restclient.RestTemplateBuilder;
import org.springframework.http.client.ClientHttpRequestFactory;
import org.springframework.http.client.ClientHttpRequestInterceptor;
import org.springframework.http.client.reactive.ClientHttpConnector;
import org.springframework.web.client.RestClient;
import org.springframework.web.client.RestTemplate;
import org.springframework.web.reactive.function.client.ExchangeFilterFunction;
import org.springframework.web.reactive.function.client.WebClient;
import org.springframework.web.util.DefaultUriBuilderFactory;

/**
 * One service this service calls ({@code zerotrust.clients.<name>}): requests go over mutual TLS
 * 1.3 presenting this service's rotating certificate, the server must prove the SPIFFE identity of
 * the {@link #audience()} (not merely a certificate of the CA), and each request carries a
 * {@code Bearer} service token for that audience with the configured scopes, minted by the
 * application's {@link TokenSource} and reused until it is due for renewal. A URL that is not
 * {@code https} is refused before anything is sent ({@link ZeroTrustClientException}).
 *
 * <pre>{@code
 * RestClient orders = clients.client("orders").restClient().build();
 * String list = orders.get().uri("/orders").retrieve().body(String.class);
 * WebClient reactive = clients.client("orders").webClient().build();   // with Spring WebFlux
 * }</pre>
 *
 * <p>Immutable and thread-safe; the request factory and interceptor (and the WebClient connector
 * and filter) are shared by every client built from it. Loads without Spring WebFlux: the WebClient
 * methods then throw {@link IllegalStateException}.
 */
public final class ZeroTrustClient {

    private final String name;
    private final URI baseUrl;
    private final ServiceIdentity audience;
    private final List<String> scopes;
    private final ClientHttpRequestFactory requestFactory;
    private final ClientHttpRequestInterceptor interceptor;
    private final @Nullable ZeroTrustWebClient webClient;

    ZeroTrustClient(String name, URI baseUrl, ServiceIdentity audience, List<String> scopes,
                    ClientHttpRequestFactory requestFactory, ClientRequestGuard guard,
                    @Nullable ZeroTrustWebClient webClient) {
        this.name = name;
        this.baseUrl = baseUrl;
        this.audience = audience;
        this.scopes = List.copyOf(scopes);
        this.requestFactory = requestFactory;
        this.interceptor = (request, body, execution) -> {
            request.getHeaders().setBearerAuth(guard.bearerToken(request.getURI()));
            return execution.execute(request, body);
        };
        this.webClient = webClient;
    }

    /** The name under {@code zerotrust.clients}. */
    public String name() {
        return name;
    }

    /** The https URL relative request paths resolve against. */
    public URI baseUrl() {
        return baseUrl;
    }

    /** The called service's identity: what its certificate must prove, and its tokens' audience. */
    public ServiceIdentity audience() {
        return audience;
    }

    /** The scopes each request's token carries. */
    public List<String> scopes() {
        return scopes;
    }

    /** Opens the mutual-TLS connections; a rotated certificate is presented from the next request on. */
    public ClientHttpRequestFactory requestFactory() {
        return requestFactory;
    }

    /** Refuses non-https URLs and adds the {@code Authorization: Bearer} token to each request. */
    public ClientHttpRequestInterceptor interceptor() {
        return interceptor;
    }

    /** A new {@link RestClient} builder for this service: base URL, mutual TLS and tokens set. */
    public RestClient.Builder restClient() {
        return customize(RestClient.builder());
    }

    /**
     * Sets the base URL, the mutual-TLS request factory and the token interceptor on {@code builder},
     * e.g. the {@code RestClient.Builder} Boot configures with the application's message converters.
     *
     * @return {@code builder}
     */
    public RestClient.Builder customize(RestClient.Builder builder) {
        return builder.baseUrl(baseUrl).requestFactory(requestFactory).requestInterceptor(interceptor);
    }

    /** A new {@link RestTemplate} for this service: base URL, mutual TLS and tokens set. */
    public RestTemplate restTemplate() {
        RestTemplate template = new RestTemplate(requestFactory);
        template.setUriTemplateHandler(new DefaultUriBuilderFactory(baseUrl.toString()));
        template.getInterceptors().add(interceptor);
        return template;
    }

    /**
     * {@code builder} (Boot's {@link RestTemplateBuilder}, from {@code spring-boot-restclient}) with the
     * base URL, the mutual-TLS request factory and the token interceptor.
     */
    public RestTemplateBuilder restTemplate(RestTemplateBuilder builder) {
        return builder.rootUri(baseUrl.toString()).requestFactory(() -> requestFactory)
                .additionalInterceptors(interceptor);
    }

    /**
     * A new {@link WebClient} builder for this service: base URL, mutual TLS and tokens set (see
     * {@link #customizeWebClient(WebClient.Builder)}).
     *
     * @throws IllegalStateException when the application lacks Spring WebFlux, Reactor Netty or
     *     {@code zerotrust-netty-mtls}
     */
    public WebClient.Builder webClient() {
        return customizeWebClient(WebClient.builder());
    }

    /**
     * Sets the base URL, the mutual-TLS connector and the token filter on {@code builder}, e.g. the
     * {@code WebClient.Builder} Boot configures with the application's codecs. Requests run on Reactor
     * Netty with netty-mtls's {@code SslContext}: TLS 1.3, this service's certificate, the server must
     * prove the {@link #audience()}; no redirects; new connections after a certificate rotation. A
     * non-https URL fails the request with a {@code WebClientRequestException} whose cause is the
     * {@link ZeroTrustClientException}, before anything is sent.
     *
     * @return {@code builder}
     * @throws IllegalStateException when the application lacks Spring WebFlux, Reactor Netty or
     *     {@code zerotrust-netty-mtls}
     */
    public WebClient.Builder customizeWebClient(WebClient.Builder builder) {
        return requireWebClient().customize(builder, baseUrl);
    }

    /**
     * Opens the {@code WebClient}'s mutual-TLS connections (Reactor Netty); a rotated certificate is
     * presented from the next request on.
     *
     * @throws IllegalStateException when the application lacks Spring WebFlux, Reactor Netty or
     *     {@code zerotrust-netty-mtls}
     */
    public ClientHttpConnector webClientConnector() {
        return requireWebClient().connector();
    }

    /**
     * Refuses non-https URLs and adds the {@code Authorization: Bearer} token to each {@code WebClient}
     * request: the {@link #interceptor()}'s checks and tokens.
     *
     * @throws IllegalStateException when the application lacks Spring WebFlux, Reactor Netty or
     *     {@code zerotrust-netty-mtls}
     */
    public ExchangeFilterFunction exchangeFilter() {
        return requireWebClient().filter();
    }

    private ZeroTrustWebClient requireWebClient() {
        if (webClient == null) {
            throw new IllegalStateException("the client '" + name + "' has no WebClient: add"
                    + " org.springframework:spring-webflux, io.projectreactor.netty:reactor-netty-http and"
                    + " io.settler.zerotrust:zerotrust-netty-mtls to the application");
        }
        return webClient;
    }

    @Override
    public String toString() {
        return "ZeroTrustClient[" + name + " " + baseUrl + " as " + audience + " " + scopes + "]";
    }
}
