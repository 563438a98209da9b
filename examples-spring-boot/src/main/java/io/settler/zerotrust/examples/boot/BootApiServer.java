package io.settler.zerotrust.examples.boot;

import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.settler.zerotrust.examples.Deployment;
import io.settler.zerotrust.examples.api.ApiServer;
import io.settler.zerotrust.examples.api.OutboxRelay;
import io.settler.zerotrust.jdbc.PostgresMtlsDataSource;
import io.settler.zerotrust.queue.QueuePublisher;
import io.settler.zerotrust.spring.ZeroTrustSecurity;
import io.settler.zerotrust.token.TokenKey;
import java.nio.file.Path;
import java.time.Duration;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.context.annotation.Bean;
import org.springframework.http.HttpMethod;
import org.springframework.security.config.Customizer;
import org.springframework.security.config.annotation.method.configuration.EnableMethodSecurity;
import org.springframework.security.config.annotation.web.builders.HttpSecurity;
import org.springframework.security.web.SecurityFilterChain;

/**
 * The example API server ({@link ApiServer}) as a Spring Boot application: the same routes, tables, outbox
 * and job queue, with everything zero-trust coming from the starter's {@code zerotrust.*} properties
 * ({@code application.properties}) read from the same deployment directory and {@code policy.json}:
 *
 * <pre>
 * POST /orders       SCOPE_orders:write   {"item": "..."}  -&gt; 201 {"id": N}; 422 for a reused Idempotency-Key
 * GET  /orders/{id}  SCOPE_orders:read                     -&gt; 200 {"id", "item", "status"}, or 404
 * </pre>
 *
 * <p>Tomcat serves mutual TLS 1.3 on loopback and admits in the handshake only the services the policy lets
 * call {@code api} (the gateway), the rest of the policy's rule (its source networks) checked by the starter
 * on each request; each request needs the gateway's service token,
 * whose scopes are the authorities the filter chain and the controller's {@code @PreAuthorize} check;
 * {@code @Transactional} methods run inside the starter's tenant transaction ({@code app.tenant_id} = the
 * token's {@code tenant} claim, row-level security), on the
 * {@code zerotrust.postgres} pool as role {@code api}; the job goes to the outbox in the order's transaction
 * and the examples' {@link OutboxRelay} publishes it, signed, with the starter's {@link QueuePublisher}
 * (Redis Streams, {@code queue:{jobs}:api}). What is not a property: the queue's signing key, generated at
 * start with its public half published in {@code jwks/api.json} for the workers, as the hand-wired api does.
 *
 * <p>Run it with {@code --examples.deployment=<directory>} (as {@code LocalZone} or {@code bin/demo --prepare}
 * writes it; its {@code endpoints.properties} is imported for the server addresses). The controller is
 * {@link OrdersController}, the transactions {@link TenantOrders}.
 */
@SpringBootApplication(proxyBeanMethods = false)
@EnableMethodSecurity
public class BootApiServer {

    /** The property naming the deployment directory. */
    public static final String DEPLOYMENT_PROPERTY = "examples.deployment";

    /** How often the outbox relay looks for jobs it was not woken for, as the hand-wired api's. */
    private static final Duration RELAY_INTERVAL = Duration.ofSeconds(1);

    /**
     * Starts the server.
     *
     * @param args Spring Boot's, with {@code --examples.deployment=<directory>}
     */
    public static void main(String[] args) {
        SpringApplication.run(BootApiServer.class, args);
    }

    /** Which request needs which scope, and the starter's token authentication; nothing else is served. */
    @Bean
    SecurityFilterChain api(HttpSecurity http, ZeroTrustSecurity zeroTrust) {
        return http.authorizeHttpRequests(requests -> requests
                        .requestMatchers(HttpMethod.POST, OrdersController.ORDERS)
                        .hasAuthority(OrdersController.WRITE_AUTHORITY)
                        .requestMatchers(HttpMethod.GET, OrdersController.ORDERS + "/*")
                        .hasAuthority(OrdersController.READ_AUTHORITY)
                        .anyRequest().denyAll())
                .with(zeroTrust.configurer(), Customizer.withDefaults())
                .build();
    }

    /** The deployment directory: where the published token keys go. */
    @Bean
    Deployment deployment(@Value("${" + DEPLOYMENT_PROPERTY + "}") Path directory) {
        return Deployment.at(directory);
    }

    /**
     * The queue's signing key (never a property): generated now, its public half published in
     * {@code jwks/api.json} beside the keys of earlier starts, which the workers verify jobs with.
     */
    @Bean
    TokenKey queueSigningKey(Deployment deployment) {
        return deployment.newTokenKeys(ApiServer.SERVICE).signingKey().orElseThrow();
    }

    /** Strict JSON, as the hand-wired api reads bodies: no duplicate keys, nothing after the object. */
    @Bean
    ObjectMapper orderJson() {
        return JsonMapper.builder()
                .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
                .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
                .build();
    }

    /** The examples' outbox relay on the starter's pool and queue publisher. */
    @Bean(destroyMethod = "close")
    OutboxRelay outboxRelay(PostgresMtlsDataSource database, QueuePublisher jobs, ObjectMapper orderJson) {
        return new OutboxRelay(database, jobs, orderJson, RELAY_INTERVAL).start();
    }
}
