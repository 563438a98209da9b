package io.settler.zerotrust.spring;

import io.settler.zerotrust.credentials.CredentialSource;
import io.settler.zerotrust.tls.MtlsContext;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.time.Duration;
import org.springframework.http.HttpMethod;
import org.springframework.http.client.ClientHttpRequest;
import org.springframework.http.client.ClientHttpRequestFactory;
import org.springframework.http.client.JdkClientHttpRequestFactory;

/**
 * Requests over the JDK {@link HttpClient} on a client {@link MtlsContext}, with a new
 * {@code HttpClient} after each credential rotation: its pool would otherwise keep reusing
 * connections made with the previous certificate, so the next request opens a connection that
 * presents the new one. Requests already running finish on their connection.
 */
final class RotatingRequestFactory implements ClientHttpRequestFactory, AutoCloseable {

    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);

    private final MtlsContext context;
    private volatile JdkClientHttpRequestFactory current;
    private final AutoCloseable rotation;

    RotatingRequestFactory(MtlsContext context, CredentialSource credentials) {
        this.context = context;
        this.current = newFactory();
        this.rotation = credentials.onRotation(snapshot -> current = newFactory());
    }

    private JdkClientHttpRequestFactory newFactory() {
        return new JdkClientHttpRequestFactory(HttpClient.newBuilder().sslContext(context.sslContext())
                .sslParameters(context.sslParameters()).connectTimeout(CONNECT_TIMEOUT)
                .followRedirects(HttpClient.Redirect.NEVER).build());
    }

    @Override
    public ClientHttpRequest createRequest(URI uri, HttpMethod httpMethod) throws IOException {
        return current.createRequest(uri, httpMethod);
    }

    /** Stops following rotations. */
    @Override
    public void close() {
        try {
            rotation.close();
        } catch (Exception e) {
            throw new IllegalStateException("cannot stop following credential rotations", e);
        }
    }
}
