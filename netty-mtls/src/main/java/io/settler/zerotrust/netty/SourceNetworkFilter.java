package io.settler.zerotrust.netty;

import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.ipfilter.IpFilterRuleType;
import io.netty.handler.ipfilter.IpSubnetFilter;
import io.netty.handler.ipfilter.IpSubnetFilterRule;
import io.settler.zerotrust.audit.AuditEvent;
import io.settler.zerotrust.audit.AuditLog;
import io.settler.zerotrust.network.Cidr;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;

/**
 * A source-network allow-list that refuses a connection before the TLS handshake: put it first in
 * the pipeline, before {@link NettyMtls#addTo}. Netty's {@link IpSubnetFilter} fed with core
 * {@link Cidr}s; an address in no allowed network is closed at once and audited
 * ({@code connection.refused}, reason {@code SOURCE_NETWORK}). Stateless and {@link ChannelHandler.Sharable}.
 *
 * <pre>{@code
 * SourceNetworkFilter filter = SourceNetworkFilter.builder().allow("10.20.0.0/16").allow("::1/128").build();
 * channel.pipeline().addFirst(filter);
 * }</pre>
 *
 * <p>This is a cheap first gate against scans and floods from outside; the {@code PeerAuthorizer}
 * can additionally require source networks per identity.
 */
@ChannelHandler.Sharable
public final class SourceNetworkFilter extends IpSubnetFilter {

    private final List<Cidr> allowed;
    private final AuditLog audit;
    private final Clock clock;

    private SourceNetworkFilter(Builder builder, List<Cidr> allowed) {
        super(false, allowed.stream()
                .map(cidr -> new IpSubnetFilterRule(cidr.network(), cidr.prefixLength(), IpFilterRuleType.ACCEPT))
                .toList());
        this.allowed = allowed;
        this.audit = builder.audit;
        this.clock = builder.clock;
    }

    /** Starts an empty allow-list; at least one network must be allowed. */
    public static Builder builder() {
        return new Builder();
    }

    /** The allowed networks. */
    public List<Cidr> allowed() {
        return allowed;
    }

    @Override
    protected @Nullable ChannelFuture channelRejected(ChannelHandlerContext ctx, InetSocketAddress remoteAddress) {
        audit.record(AuditEvent.builder(clock.instant(), "connection.refused", AuditEvent.Outcome.REFUSED)
                .field("remote", remoteAddress.getAddress() == null ? remoteAddress.getHostString()
                        : remoteAddress.getAddress().getHostAddress())
                .field("reason", "SOURCE_NETWORK")
                .field("detail", "the source address is in none of the allowed networks " + summary())
                .build());
        return null; // closes the channel, nothing sent
    }

    private String summary() {
        return allowed.stream().map(Cidr::toString).collect(Collectors.joining(",", "[", "]"));
    }

    @Override
    public String toString() {
        return "SourceNetworkFilter" + summary();
    }

    /** Builds a {@link SourceNetworkFilter}. */
    public static final class Builder {
        private final List<Cidr> allowed = new ArrayList<>();
        private AuditLog audit = AuditLog.slf4j();
        private Clock clock = Clock.systemUTC();

        private Builder() {
        }

        /** Allows a network, e.g. {@code 10.20.0.0/16} or {@code fd00::/8}; never resolved through DNS. */
        public Builder allow(String cidr) {
            return allow(Cidr.parse(cidr));
        }

        /** Allows a network. */
        public Builder allow(Cidr cidr) {
            allowed.add(Objects.requireNonNull(cidr, "cidr"));
            return this;
        }

        /** Allows every network in {@code cidrs}. */
        public Builder allowAll(Iterable<Cidr> cidrs) {
            cidrs.forEach(this::allow);
            return this;
        }

        /** Where refusals are recorded (default {@link AuditLog#slf4j()}). */
        public Builder auditLog(AuditLog audit) {
            this.audit = Objects.requireNonNull(audit, "audit");
            return this;
        }

        /** The clock that stamps refusals. */
        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /** Builds the filter; refuses an empty allow-list, which would refuse everyone. */
        public SourceNetworkFilter build() {
            if (allowed.isEmpty()) {
                throw new IllegalStateException("the allow-list is empty and would refuse every connection;"
                        + " allow at least one network (e.g. allow(\"10.0.0.0/8\"))");
            }
            return new SourceNetworkFilter(this, List.copyOf(allowed));
        }
    }
}
