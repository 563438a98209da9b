package io.settler.zerotrust.cli;

import io.settler.zerotrust.policy.Policy;
import io.settler.zerotrust.queue.rabbitmq.RabbitMqBrokerConfig;
import picocli.CommandLine.Option;

/**
 * What RabbitMQ's configuration is rendered with: the options {@code zt render rabbitmq} and
 * {@code zt drift rabbitmq} share, so that drift compares with exactly what render wrote.
 */
final class BrokerOptions {

    @Option(names = "--vhost", paramLabel = "<vhost>", defaultValue = RabbitMqBrokerConfig.DEFAULT_VIRTUAL_HOST,
            description = "rabbitmq: the virtual host (default ${DEFAULT-VALUE}).")
    String virtualHost = RabbitMqBrokerConfig.DEFAULT_VIRTUAL_HOST;

    @Option(names = "--operator", paramLabel = "<service>", defaultValue = RabbitMqBrokerConfig.DEFAULT_OPERATOR,
            description = "rabbitmq: the operator's service name, not one of the policy: the only user with"
                    + " configure (default ${DEFAULT-VALUE}).")
    String operator = RabbitMqBrokerConfig.DEFAULT_OPERATOR;

    @Option(names = "--delivery-limit", paramLabel = "<n>", defaultValue = "20",
            description = "rabbitmq: the broker's delivery limit per queue, above your consumers' maxDeliveries"
                    + " (default ${DEFAULT-VALUE}).")
    int deliveryLimit = RabbitMqBrokerConfig.DEFAULT_DELIVERY_LIMIT;

    /**
     * The broker configuration of {@code policy} with these options.
     *
     * @throws UsageException if an option is refused (a name RabbitMQ or the renderer does not take)
     * @throws IllegalArgumentException with the renderer's reason if the policy cannot be rendered (no
     *     queue scope, or the operator is a service of the policy)
     */
    RabbitMqBrokerConfig render(Policy policy) {
        RabbitMqBrokerConfig.Builder builder = RabbitMqBrokerConfig.builder(policy);
        try {
            builder.virtualHost(virtualHost).operator(operator).deliveryLimit(deliveryLimit);
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage(), e);
        }
        return builder.build();
    }
}
