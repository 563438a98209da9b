package io.settler.zerotrust.queue.rabbitmq;

import static org.assertj.core.api.Assertions.assertThat;

import io.settler.zerotrust.credentials.CredentialSource;
import io.settler.zerotrust.credentials.TlsIdentity;
import io.settler.zerotrust.credentials.TrustBundle;
import io.settler.zerotrust.pki.DevCertificateAuthority;
import io.settler.zerotrust.pki.IssuedCertificate;
import io.settler.zerotrust.policy.Policy;
import io.settler.zerotrust.testkit.LocalRabbitMq;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The drift check's live probe against a broker whose listener was weakened by hand (TLS 1.2 allowed,
 * no client certificate required, PLAIN offered beside EXTERNAL): each weakening is a finding, which
 * the definitions alone could never show.
 */
class RabbitMqListenerDriftTest {

    private static final DevCertificateAuthority CA = DevCertificateAuthority.create("weak.test");
    private static final RabbitMqBrokerConfig CONFIG = RabbitMqBrokerConfig.builder(Policy.builder("weak.test")
            .service("api", api -> api.scopes("queue:jobs:publish")).build()).build();

    private static LocalRabbitMq rabbit;

    @BeforeAll
    static void startABrokerWithAWeakenedListener() {
        rabbit = LocalRabbitMq.builder(CA).definitions(CONFIG.definitionsJson())
                .configuration((listener, caBundle, certificate, key, definitions) -> RabbitMqBrokerConfig
                        .rabbitmqConf(listener, caBundle, certificate, key, definitions)
                        .replace("ssl_options.fail_if_no_peer_cert = true", "ssl_options.fail_if_no_peer_cert = false")
                        .replace("ssl_options.versions.1 = tlsv1.3",
                                "ssl_options.versions.1 = tlsv1.3\nssl_options.versions.2 = tlsv1.2")
                        .replace("auth_mechanisms.1 = EXTERNAL",
                                "auth_mechanisms.1 = EXTERNAL\nauth_mechanisms.2 = PLAIN"))
                .start();
    }

    @AfterAll
    static void stop() {
        if (rabbit != null) {
            rabbit.close();
        }
    }

    @Test
    void findsTls12AClientWithoutCertificateAndPasswordLoginOnAWeakenedListener() {
        IssuedCertificate operator = rabbit.clientCertificate("queue-setup");
        CredentialSource credentials = CredentialSource.fixed(TlsIdentity.of(operator.privateKey(),
                operator.chain()), TrustBundle.of(List.of(CA.rootCertificate())));

        RabbitMqDrift drift = CONFIG.probeListener(credentials, rabbit.host(), rabbit.tlsPort(), Optional.empty());

        assertThat(drift.findings()).extracting(RabbitMqDrift.Finding::kind)
                .containsOnly(RabbitMqDrift.Kind.LISTENER_WEAKER);
        assertThat(drift.findings()).extracting(RabbitMqDrift.Finding::detail).satisfiesExactly(
                mechanisms -> assertThat(mechanisms).contains("[EXTERNAL, PLAIN]"),
                tls12 -> assertThat(tls12).contains("TLS 1.2"),
                noCertificate -> assertThat(noCertificate).contains("without a certificate"));
    }
}
