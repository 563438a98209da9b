package io.settler.zerotrust.spring;

import java.time.Duration;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * The {@code zerotrust.queue.*} settings: a zerotrust-queue publisher and a consumer on Redis Streams,
 * over the {@code zerotrust.redis} connection.
 *
 * <pre>{@code
 * zerotrust:
 *   queue:
 *     publish: jobs                             # the policy must grant this service queue:jobs:publish
 *     consume:
 *       queue: jobs                             # the policy must grant this service queue:jobs:consume
 *       consumer: worker-1                      # this worker's stable name in the group
 *       publishers:
 *         api: { jwks: file:/etc/zerotrust/jwks/api.json }
 * }</pre>
 *
 * <p>The publisher's signing key is never a property: the application gives it as a {@code TokenKey}
 * bean. The consumer runs the application's {@code MessageHandler} beans.
 *
 * @param publish the queue this service publishes to, e.g. {@code jobs}: a {@code QueuePublisher} bean
 * @param messageLifetime how long a published message stays acceptable; later it is dead-lettered as expired
 * @param consume the queue this service consumes, as one worker of a consumer group
 */
@ConfigurationProperties("zerotrust.queue")
public record ZeroTrustQueueProperties(@Nullable String publish, @DefaultValue("15m") Duration messageLifetime,
                                       @DefaultValue Consume consume) {

    /**
     * A worker of a consumer group: a {@code QueueConsumer} bean polled by a lifecycle bean that calls
     * the application's {@code MessageHandler} beans.
     *
     * @param queue the queue to consume, e.g. {@code jobs}
     * @param group the consumer group (every group handles each message once); default {@code zerotrust.service}
     * @param consumer this worker's stable name in the group, e.g. {@code worker-1} (its pending messages
     *     are found again under this name after a restart)
     * @param publishers per publishing service, named as in the policy, where its published token keys are;
     *     only services the policy grants {@code queue:<q>:publish} are trusted
     * @param namespace the Redis key namespace of the replay guard and the records of handled messages;
     *     default {@code zerotrust.service}
     * @param pollInterval how long the poller waits after a round that found nothing, or failed
     * @param claimAfter idle time after which a message left unacknowledged is reclaimed by any worker
     * @param lease how long a worker holds the group's lease on a message it settles (longer than the slowest
     *     handler, at most {@code claim-after})
     * @param maxDeliveries deliveries after which a message whose handler keeps failing is dead-lettered
     * @param batchSize entries read per publisher stream and round
     */
    public record Consume(@Nullable String queue, @Nullable String group, @Nullable String consumer,
                          @DefaultValue Map<String, ZeroTrustProperties.Issuer> publishers,
                          @Nullable String namespace, @DefaultValue("200ms") Duration pollInterval,
                          @DefaultValue("1m") Duration claimAfter, @DefaultValue("1m") Duration lease,
                          @DefaultValue("5") int maxDeliveries, @DefaultValue("32") int batchSize) {

        /** Copies the map. */
        public Consume {
            publishers = Map.copyOf(publishers);
        }
    }
}
