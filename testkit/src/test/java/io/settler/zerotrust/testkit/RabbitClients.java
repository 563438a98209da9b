package io.settler.zerotrust.testkit;

import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.DefaultSaslConfig;
import io.settler.zerotrust.pki.IssuedCertificate;
import java.io.IOException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeoutException;

/** RabbitMQ Java clients for the testkit's RabbitMQ tests: TLS 1.3, the node's host name verified, SASL EXTERNAL. */
final class RabbitClients {

    static final Duration TIMEOUT = Duration.ofSeconds(10);
    private static final int TIMEOUT_MILLIS = (int) TIMEOUT.toMillis();

    private RabbitClients() {
    }

    /**
     * A factory for {@code node}'s TLS port and {@code vhost} that presents {@code certificate} (if
     * any), trusts {@code root}, checks that the node's certificate names {@code localhost} and logs
     * in by SASL EXTERNAL.
     */
    static ConnectionFactory factory(LocalRabbitMq node, String vhost, Optional<IssuedCertificate> certificate,
                                     X509Certificate root) {
        ConnectionFactory factory = new ConnectionFactory();
        factory.setHost(node.host());
        factory.setPort(node.tlsPort());
        factory.setVirtualHost(vhost);
        factory.useSslProtocol(ClientTls.context(certificate, root));
        factory.enableHostnameVerification();
        factory.setSaslConfig(DefaultSaslConfig.EXTERNAL);
        factory.setConnectionTimeout(TIMEOUT_MILLIS);
        factory.setHandshakeTimeout(TIMEOUT_MILLIS);
        factory.setAutomaticRecoveryEnabled(false);
        return factory;
    }

    /** A connection to {@code node}'s {@code vhost} as {@code service}, by its certificate. */
    static Connection connect(LocalRabbitMq node, String vhost, String service) throws IOException, TimeoutException {
        return factory(node, vhost, Optional.of(node.clientCertificate(service)),
                node.certificateAuthority().rootCertificate()).newConnection("testkit-" + service);
    }
}
