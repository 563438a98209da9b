package io.settler.zerotrust.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.settler.zerotrust.token.KeySet;
import io.settler.zerotrust.token.ServiceTokens;
import io.settler.zerotrust.token.TokenRejectedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DeploymentTest {

    @TempDir
    Path directory;

    @Test
    void tokensOfAnEarlierStartStillVerifyAfterARestart() {
        Deployment deployment = deployment();
        String beforeRestart = mint(deployment, deployment.newTokenKeys("api"));
        String afterRestart = mint(deployment, deployment.newTokenKeys("api"));

        ServiceTokens worker = verifier(deployment);
        assertThat(worker.verify(beforeRestart, "queue:jobs:publish").service())
                .hasToString(deployment.identity("api"));
        assertThat(worker.verify(afterRestart, "queue:jobs:publish").service())
                .hasToString(deployment.identity("api"));
    }

    @Test
    void keepsOnlyTheNewestPublishedKeys() throws Exception {
        Deployment deployment = deployment();
        List<String> tokens = new ArrayList<>();
        for (int start = 0; start < Deployment.PUBLISHED_KEYS_KEPT + 2; start++) {
            tokens.add(mint(deployment, deployment.newTokenKeys("api")));
        }
        assertThat(KeySet.fromJwks(Files.readString(directory.resolve("jwks/api.json"))).keys())
                .hasSize(Deployment.PUBLISHED_KEYS_KEPT + 1);
        ServiceTokens worker = verifier(deployment);
        assertThatThrownBy(() -> worker.verify(tokens.get(0), "queue:jobs:publish"))
                .isInstanceOfSatisfying(TokenRejectedException.class,
                        e -> assertThat(e.reason()).isEqualTo(TokenRejectedException.Reason.UNKNOWN_KEY));
        assertThat(worker.verify(tokens.get(tokens.size() - 1), "queue:jobs:publish")).isNotNull();
    }

    @Test
    void theQueueTransportIsRedisUnlessTheDeploymentSaysRabbitMq() {
        Deployment deployment = deployment();
        assertThat(deployment.queueTransport()).isEqualTo(QueueTransport.REDIS);
        assertThat(deployment.withEndpoint(Deployment.QUEUE_TRANSPORT, " rabbitmq ").queueTransport())
                .isEqualTo(QueueTransport.RABBITMQ);
        assertThatThrownBy(() -> deployment.withEndpoint(Deployment.QUEUE_TRANSPORT, "kafka").queueTransport())
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("queue.transport").hasMessageContaining("'kafka'")
                .hasMessageContaining("endpoints.properties");
    }

    @Test
    void aServiceOnlyTrustsTheKeysItsPeerPublished() {
        Deployment deployment = deployment();
        String byGateway = ServiceTokens.builder().identity(deployment.identity("gateway"))
                .keys(deployment.newTokenKeys("gateway")).build()
                .mint(deployment.identity("worker"), List.of("queue:jobs:publish"));
        deployment.newTokenKeys("api");
        assertThatThrownBy(() -> verifier(deployment).verify(byGateway, "queue:jobs:publish"))
                .isInstanceOf(TokenRejectedException.class);
    }

    @Test
    void listenPortIsZeroWhenMissingAndRefusesWhatIsNotAPort() {
        Deployment deployment = deployment();
        assertThat(deployment.listenPort("api")).isZero();
        assertThat(deployment.withEndpoint("api.port", "8443").listenPort("api")).isEqualTo(8443);
        assertThatThrownBy(() -> deployment.withEndpoint("api.port", "70000").listenPort("api"))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("api.port")
                .hasMessageContaining("70000");
    }

    private Deployment deployment() {
        Deployment.writeExamplePolicy(directory);
        return Deployment.at(directory);
    }

    private static String mint(Deployment deployment, KeySet keys) {
        return ServiceTokens.builder().identity(deployment.identity("api")).keys(keys).build()
                .mint(deployment.identity("worker"), List.of("queue:jobs:publish"));
    }

    private static ServiceTokens verifier(Deployment deployment) {
        return ServiceTokens.builder().identity(deployment.identity("worker"))
                .verificationKeys(deployment.publishedKeysOf("api"))
                .trustIssuers(deployment.identity("api")).build();
    }
}
