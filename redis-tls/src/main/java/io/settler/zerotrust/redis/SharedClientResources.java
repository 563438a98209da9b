package io.settler.zerotrust.redis;

import io.lettuce.core.event.DefaultEventBus;
import io.lettuce.core.event.DefaultEventPublisherOptions;
import io.lettuce.core.event.Event;
import io.lettuce.core.event.EventBus;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.DefaultClientResources;
import io.lettuce.core.resource.NettyCustomizer;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import reactor.core.publisher.Flux;
import reactor.core.scheduler.Schedulers;

/**
 * Client resources for one hardened client on top of resources the user owns (for their metrics,
 * tracing, threads): the user's event loops, executor, timer, latency recorder, tracing and address
 * resolution, plus our {@link TlsHandshakeGuard} after the user's own Netty customizer. Shutting
 * them down stops nothing of the user's: every component is passed in as shared.
 *
 * <p>Our client's events go to an event bus of its own and are forwarded to the user's, so the
 * library's subscriptions ({@link ReconnectAudit}) see this client's events only, and the user's
 * see them too. Command latencies are recorded into the user's recorder, which the user's own
 * resources publish; these publish none, so nothing is counted twice.
 */
final class SharedClientResources {

    private SharedClientResources() {
    }

    /** Resources for one client: {@code owned}'s components, {@code guard} added, an event bus of its own. */
    static ClientResources around(ClientResources owned, NettyCustomizer guard) {
        return DefaultClientResources.builder()
                .eventLoopGroupProvider(owned.eventLoopGroupProvider())
                .eventExecutorGroup(owned.eventExecutorGroup())
                .timer(owned.timer())
                .commandLatencyRecorder(owned.commandLatencyRecorder())
                .commandLatencyPublisherOptions(DefaultEventPublisherOptions.disabled())
                .tracing(owned.tracing())
                .reconnectDelay(owned::reconnectDelay)
                .socketAddressResolver(owned.socketAddressResolver())
                .addressResolverGroup(owned.addressResolverGroup())
                .eventBus(new ForwardingEventBus(owned))
                .nettyCustomizer(new BothCustomizers(owned.nettyCustomizer(), guard))
                .build();
    }

    /** Publishes to a bus of its own, which subscribers of this client read, and to the user's. */
    private static final class ForwardingEventBus implements EventBus {
        private final EventBus own;
        private final EventBus users;

        ForwardingEventBus(ClientResources owned) {
            this.own = new DefaultEventBus(Schedulers.fromExecutor(owned.eventExecutorGroup()));
            this.users = owned.eventBus();
        }

        @Override
        public Flux<Event> get() {
            return own.get();
        }

        @Override
        public void publish(Event event) {
            own.publish(event);
            users.publish(event);
        }
    }

    /** The user's customizer first, then ours, which so sees the final pipeline. */
    private record BothCustomizers(NettyCustomizer users, NettyCustomizer ours) implements NettyCustomizer {
        @Override
        public void afterBootstrapInitialized(Bootstrap bootstrap) {
            users.afterBootstrapInitialized(bootstrap);
            ours.afterBootstrapInitialized(bootstrap);
        }

        @Override
        public void afterChannelInitialized(Channel channel) {
            users.afterChannelInitialized(channel);
            ours.afterChannelInitialized(channel);
        }
    }
}
