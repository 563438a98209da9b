package io.settler.zerotrust.examples.boot;

import static org.assertj.core.api.Assertions.assertThat;

import io.settler.zerotrust.authz.PeerAuthorizer;
import io.settler.zerotrust.examples.Deployment;
import io.settler.zerotrust.examples.api.ApiServer;
import io.settler.zerotrust.identity.ServiceIdentity;
import io.settler.zerotrust.policy.Policy;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import org.junit.jupiter.api.Test;

/**
 * The per-request half of the policy's rule for {@code api} ({@link PolicyNetworkFilter}), on the examples'
 * own {@code policy.json}: the gateway from loopback only, no other service from anywhere.
 */
class PolicyNetworkFilterTest {

    private static final Policy POLICY = examplePolicy();
    private static final PeerAuthorizer ACCEPTS = POLICY.authorizerFor(ApiServer.SERVICE);
    private static final ServiceIdentity GATEWAY = identity("gateway");
    private static final ServiceIdentity WORKER = identity("worker");

    @Test
    void acceptsTheGatewayFromLoopback() {
        assertThat(PolicyNetworkFilter.refusal(ACCEPTS, GATEWAY, "127.0.0.1")).isEmpty();
        assertThat(PolicyNetworkFilter.refusal(ACCEPTS, GATEWAY, "127.8.9.10")).isEmpty();
        assertThat(PolicyNetworkFilter.refusal(ACCEPTS, GATEWAY, "0:0:0:0:0:0:0:1")).isEmpty();
        assertThat(PolicyNetworkFilter.refusal(ACCEPTS, GATEWAY, "::1")).isEmpty();
    }

    @Test
    void refusesTheGatewayFromAnotherNetwork() {
        assertThat(PolicyNetworkFilter.refusal(ACCEPTS, GATEWAY, "10.1.2.3")).isPresent();
        assertThat(PolicyNetworkFilter.refusal(ACCEPTS, GATEWAY, "192.168.0.1")).isPresent();
        assertThat(PolicyNetworkFilter.refusal(ACCEPTS, GATEWAY, "fe80:0:0:0:0:0:0:1")).isPresent();
    }

    @Test
    void refusesAServiceThePolicyDoesNotLetCallTheApi() {
        assertThat(PolicyNetworkFilter.refusal(ACCEPTS, WORKER, "127.0.0.1")).isPresent();
    }

    @Test
    void refusesWhatIsNotAnAddressWithoutLookingItUp() {
        assertThat(PolicyNetworkFilter.refusal(ACCEPTS, GATEWAY, "localhost")).hasValueSatisfying(reason ->
                assertThat(reason).contains("not an address"));
        assertThat(PolicyNetworkFilter.refusal(ACCEPTS, GATEWAY, "")).isPresent();
        assertThat(PolicyNetworkFilter.refusal(ACCEPTS, GATEWAY, "1.2.3.4.example")).isPresent();
    }

    private static ServiceIdentity identity(String service) {
        return POLICY.service(service).orElseThrow().identity();
    }

    private static Policy examplePolicy() {
        try (InputStream json = Deployment.class.getResourceAsStream(Deployment.POLICY_RESOURCE)) {
            return Policy.fromJson(new String(Objects.requireNonNull(json).readAllBytes(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
