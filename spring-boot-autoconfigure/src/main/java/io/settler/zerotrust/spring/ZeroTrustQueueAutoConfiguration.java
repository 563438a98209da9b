package io.settler.zerotrust.spring;

import io.lettuce.core.api.StatefulRedisConnection;
import io.settler.zerotrust.audit.AuditLog;
import io.settler.zerotrust.policy.Policy;
import io.settler.zerotrust.policy.ServicePolicy;
import io.settler.zerotrust.queue.EnvelopeSigner;
import io.settler.zerotrust.queue.EnvelopeVerifier;
import io.settler.zerotrust.queue.MessageHandler;
import io.settler.zerotrust.queue.QueueConsumer;
import io.settler.zerotrust.queue.QueueException;
import io.settler.zerotrust.queue.QueuePublisher;
import io.settler.zerotrust.redis.KeyNamespace;
import io.settler.zerotrust.redis.RedisReplayGuard;
import io.settler.zerotrust.token.ServiceTokens;
import io.settler.zerotrust.token.TokenKey;
import java.util.List;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Conditional;

/**
 * The zerotrust-queue publisher and consumer from {@code zerotrust.queue.*} ({@link ZeroTrustQueueProperties}),
 * on Redis Streams over the proven {@code zerotrust.redis} connection, when the application has
 * {@code zerotrust-queue} and sets any of them. {@code publish}: a {@link QueuePublisher} whose messages are
 * signed with the application's {@link TokenKey} bean for this service's identity. {@code consume}: a
 * {@link QueueConsumer} (replay guard and records of handled messages on the same Redis) and a lifecycle
 * bean polling it, calling the application's {@link MessageHandler} beans. The policy must grant this
 * service {@code queue:<q>:publish} or {@code queue:<q>:consume}; a missing or refused setting stops the
 * start ({@link ZeroTrustConfigurationException} naming the property).
 */
@AutoConfiguration(after = {ZeroTrustAutoConfiguration.class, ZeroTrustRedisAutoConfiguration.class})
@ConditionalOnClass(name = "io.settler.zerotrust.queue.QueuePublisher")
@Conditional(ZeroTrustQueueAutoConfiguration.OnQueueSettings.class)
@EnableConfigurationProperties(ZeroTrustQueueProperties.class)
public final class ZeroTrustQueueAutoConfiguration {

    private static final String PREFIX = "zerotrust.queue";
    private static final String CONSUME = PREFIX + ".consume";

    /** Created by Spring. */
    public ZeroTrustQueueAutoConfiguration() {
        // beans only
    }

    /** Publishes to {@code zerotrust.queue.publish}: each payload sealed with a fresh one-time token. */
    @Bean
    @ConditionalOnMissingBean
    @ConditionalOnProperty(prefix = PREFIX, name = "publish")
    QueuePublisher zeroTrustQueuePublisher(ZeroTrustQueueProperties properties, ServicePolicy service,
                                           Policy policy, ObjectProvider<TokenKey> signingKeys,
                                           ObjectProvider<StatefulRedisConnection<String, String>> connections,
                                           AuditLog audit, StartupChecks checks) {
        String setting = PREFIX + ".publish";
        String queue = granted(checks.require(properties.publish(), setting, "jobs"), "publish", setting, service,
                checks);
        StatefulRedisConnection<String, String> connection = connection(connections, setting, checks);
        TokenKey key = signingKeys.getIfUnique();
        if (key == null) {
            throw checks.refuse(ZeroTrustConfigurationException.Reason.MISSING_SETTING, setting, "publishing to '"
                    + queue + "' needs this service's token signing key: define one TokenKey bean (the private key,"
                    + " never a property; publish its public keys, KeySet.toJwks(), to the queue's workers)", null);
        }
        try {
            ServiceTokens minter = ServiceTokens.builder().identity(service.identity()).signingKey(key).policy(policy)
                    .auditLog(audit).build();
            EnvelopeSigner signer = EnvelopeSigner.builder(minter, queue).lifetime(properties.messageLifetime())
                    .build();
            return QueuePublisher.builder(connection.sync(), signer).auditLog(audit).build();
        } catch (QueueException e) {
            throw checks.refuse(ZeroTrustConfigurationException.Reason.INVALID_QUEUE_SETTING,
                    PREFIX + ".message-lifetime", "the publisher of '" + queue + "' is refused: " + e.getMessage(), e);
        }
    }

    /**
     * One worker of {@code zerotrust.queue.consume.group} on {@code zerotrust.queue.consume.queue}: verifies
     * as the queue's identity with the publishers' keys, replay guard and records of handled messages on
     * the {@code zerotrust.redis} connection, and runs the application's {@link MessageHandler} beans in
     * their order.
     */
    @Bean
    @ConditionalOnMissingBean
    @ConditionalOnProperty(prefix = CONSUME, name = "queue")
    QueueConsumer zeroTrustQueueConsumer(ZeroTrustQueueProperties properties, ServicePolicy service, Policy policy,
                                         ObjectProvider<MessageHandler> handlers,
                                         ObjectProvider<StatefulRedisConnection<String, String>> connections,
                                         AuditLog audit, StartupChecks checks) {
        ZeroTrustQueueProperties.Consume consume = properties.consume();
        String setting = CONSUME + ".queue";
        String queue = granted(checks.require(consume.queue(), setting, "jobs"), "consume", setting, service,
                checks);
        StatefulRedisConnection<String, String> connection = connection(connections, setting, checks);
        List<MessageHandler> ordered = handlers.orderedStream().toList();
        if (ordered.isEmpty()) {
            throw checks.refuse(ZeroTrustConfigurationException.Reason.MISSING_SETTING, setting, "consuming '" + queue
                    + "' needs the application's MessageHandler bean: define one (idempotent by"
                    + " VerifiedMessage.jti()), or remove " + setting, null);
        }
        if (consume.publishers().isEmpty()) {
            throw checks.refuse(ZeroTrustConfigurationException.Reason.MISSING_SETTING, CONSUME + ".publishers",
                    "no publisher's token keys are set, so every message would be refused: set " + CONSUME
                            + ".publishers.<service>.jwks=file:/etc/zerotrust/jwks/<service>.json for each service"
                            + " that publishes to '" + queue + "'", null);
        }
        for (String publisher : consume.publishers().keySet()) {
            if (!policy.service(publisher).map(granted -> granted.mayHold(scope(queue, "publish"))).orElse(false)) {
                throw checks.refuse(ZeroTrustConfigurationException.Reason.QUEUE_NOT_GRANTED, CONSUME
                        + ".publishers." + publisher, "the policy does not grant '" + publisher + "' "
                        + scope(queue, "publish") + ": trust only the services the policy lets publish to '" + queue
                        + "'", null);
            }
        }
        String name = checks.require(consume.consumer(), CONSUME + ".consumer", "worker-1");
        String group = group(consume, service);
        String namespace = consume.namespace() != null ? consume.namespace() : service.name();
        ServiceTokens verifying = IssuerKeys.trust(ServiceTokens.builder().identity("spiffe://"
                + service.identity().trustDomain().name() + "/queue/" + queue).auditLog(audit),
                consume.publishers(), CONSUME + ".publishers", policy, checks).build();
        try {
            EnvelopeVerifier verifier = EnvelopeVerifier.builder(verifying, queue).policy(policy)
                    .replayGuard(RedisReplayGuard.builder(connection, KeyNamespace.of(namespace)).build())
                    .auditLog(audit).build();
            MessageHandler handler = ordered.size() == 1 ? ordered.get(0) : message -> {
                for (MessageHandler each : ordered) {
                    each.handle(message);
                }
            };
            return QueueConsumer.builder(connection.sync(), verifier, handler).group(group).consumer(name)
                    .claimAfter(consume.claimAfter()).lease(consume.lease()).maxDeliveries(consume.maxDeliveries())
                    .batchSize(consume.batchSize()).auditLog(audit).build();
        } catch (QueueException | IllegalArgumentException e) {
            throw checks.refuse(ZeroTrustConfigurationException.Reason.INVALID_QUEUE_SETTING, CONSUME,
                    "the consumer of '" + queue + "' is refused: " + e.getMessage(), e);
        }
    }

    /** Polls the consumer from the context's start to its close, the handler in progress finishing first. */
    @Bean
    @ConditionalOnProperty(prefix = CONSUME, name = "queue")
    QueuePoller zeroTrustQueuePoller(QueueConsumer consumer, ZeroTrustQueueProperties properties,
                                     ServicePolicy service, AuditLog audit) {
        ZeroTrustQueueProperties.Consume consume = properties.consume();
        return new QueuePoller(consumer, consume.pollInterval(), audit, String.valueOf(consume.queue()),
                group(consume, service), String.valueOf(consume.consumer()));
    }

    /** {@code consume.group}, by default the service's name. */
    private static String group(ZeroTrustQueueProperties.Consume consume, ServicePolicy service) {
        String group = consume.group();
        return group != null ? group : service.name();
    }

    private static String scope(String queue, String action) {
        return "queue:" + queue + ":" + action;
    }

    /** {@code queue}, if the policy grants this service {@code queue:<queue>:<action>}. */
    private static String granted(String queue, String action, String setting, ServicePolicy service,
                                  StartupChecks checks) {
        if (!service.mayHold(scope(queue, action))) {
            throw checks.refuse(ZeroTrustConfigurationException.Reason.QUEUE_NOT_GRANTED, setting, "the policy does"
                    + " not grant '" + service.name() + "' " + scope(queue, action) + ": add it to the service's"
                    + " scopes in the policy, or name a queue it may " + action, null);
        }
        return queue;
    }

    private static StatefulRedisConnection<String, String> connection(
            ObjectProvider<StatefulRedisConnection<String, String>> connections, String setting, StartupChecks checks) {
        StatefulRedisConnection<String, String> connection = connections.getIfUnique();
        if (connection == null) {
            throw checks.refuse(ZeroTrustConfigurationException.Reason.MISSING_SETTING, "zerotrust.redis.uri", setting
                    + " runs on Redis Streams over the zerotrust.redis connection, which is not configured: set"
                    + " zerotrust.redis.uri=rediss://cache.internal:6380 and its password source", null);
        }
        return connection;
    }

    /** Any {@code zerotrust.queue.*} property set. */
    static final class OnQueueSettings extends OnSettings {
        OnQueueSettings() {
            super(PREFIX);
        }
    }
}
