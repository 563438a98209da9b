package io.settler.zerotrust.netty;

import io.settler.zerotrust.audit.AuditEvent;
import io.settler.zerotrust.audit.AuditLog;
import io.settler.zerotrust.time.Durations;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * How long a server connection may take over each step, and how many connections a server and one
 * peer may hold; {@link NettyMtls#addTo(io.netty.channel.Channel)} applies them to every connection
 * it sets up, with these defaults unless {@link NettyMtls.Builder#connectionLimits} says otherwise:
 *
 * <ul>
 *   <li>{@link Builder#handshakeTimeout handshakeTimeout} (10 s): the TLS handshake, from the
 *       connection's start (Netty's {@code SslHandler} timeout);
 *   <li>{@link Builder#requestHeadTimeout requestHeadTimeout} (10 s): a whole HTTP request head
 *       (request line and headers), from its first byte: trickling bytes does not extend it;
 *   <li>{@link Builder#idleTimeout idleTimeout} (30 s): no byte read or written while no request is
 *       in progress: from the handshake's completion, between requests (Netty's
 *       {@code IdleStateHandler});
 *   <li>{@link Builder#maxConnectionsPerIdentity maxConnectionsPerIdentity} (64): open connections
 *       of one verified peer (its SPIFFE ID; its source address without one), checked when its
 *       handshake completes;
 *   <li>{@link Builder#maxConnections maxConnections} (10,000): open connections of the server,
 *       checked before the handshake.
 * </ul>
 *
 * <p>Each close is audited: {@code connection.closed} with reason {@code HANDSHAKE_TIMEOUT},
 * {@code REQUEST_HEAD_TIMEOUT} or {@code IDLE_TIMEOUT}; {@code connection.refused} with reason
 * {@code IDENTITY_CONNECTION_LIMIT} or {@code CONNECTION_LIMIT}. The request-head timeout needs to
 * see requests: it applies when the pipeline has Netty's {@code HttpServerCodec} (or
 * {@code HttpRequestDecoder} and {@code HttpResponseEncoder}) once the handshake completes; on other
 * protocols a connection is idle whenever nothing moves. One instance counts connections for every
 * server it is given to; thread-safe.
 *
 * <pre>{@code
 * NettyMtls tls = NettyMtls.builder(MtlsContext.server(credentials, authorizer).build())
 *         .connectionLimits(ConnectionLimits.builder().idleTimeout(Duration.ofSeconds(15))
 *                 .maxConnectionsPerIdentity(16).build())
 *         .build();
 * }</pre>
 */
public final class ConnectionLimits {

    private final Duration handshakeTimeout;
    private final Duration requestHeadTimeout;
    private final Duration idleTimeout;
    private final int maxConnectionsPerIdentity;
    private final int maxConnections;
    private final AuditLog audit;
    private final Clock clock;
    private final AtomicInteger open = new AtomicInteger();
    private final Map<String, Integer> perPeer = new ConcurrentHashMap<>();

    private ConnectionLimits(Builder builder) {
        this.handshakeTimeout = builder.handshakeTimeout;
        this.requestHeadTimeout = builder.requestHeadTimeout;
        this.idleTimeout = builder.idleTimeout;
        this.maxConnectionsPerIdentity = builder.maxConnectionsPerIdentity;
        this.maxConnections = builder.maxConnections;
        this.audit = builder.audit;
        this.clock = builder.clock;
    }

    /** Starts a builder with the defaults above. */
    public static Builder builder() {
        return new Builder();
    }

    /** The longest a TLS handshake may take, rounded up to whole milliseconds. */
    public Duration handshakeTimeout() {
        return handshakeTimeout;
    }

    /** The longest a request head may take from its first byte, rounded up to whole milliseconds. */
    public Duration requestHeadTimeout() {
        return requestHeadTimeout;
    }

    /** The longest a connection may stay idle, rounded up to whole milliseconds. */
    public Duration idleTimeout() {
        return idleTimeout;
    }

    /** The most connections one peer may hold open. */
    public int maxConnectionsPerIdentity() {
        return maxConnectionsPerIdentity;
    }

    /** The most connections the server may hold open. */
    public int maxConnections() {
        return maxConnections;
    }

    /** Counts a new connection of the server; false (not counted) when it would be one too many. */
    boolean tryOpen() {
        if (open.incrementAndGet() > maxConnections) {
            open.decrementAndGet();
            return false;
        }
        return true;
    }

    /** Uncounts a connection {@link #tryOpen} counted. */
    void closed() {
        open.decrementAndGet();
    }

    /** Counts a connection of {@code peer}; false (not counted) when it holds its maximum already. */
    boolean tryAdmit(String peer) {
        boolean[] admitted = {false};
        perPeer.compute(peer, (key, count) -> {
            int held = count == null ? 0 : count;
            if (held >= maxConnectionsPerIdentity) {
                return count;
            }
            admitted[0] = true;
            return held + 1;
        });
        return admitted[0];
    }

    /** Uncounts a connection {@link #tryAdmit} counted; forgets peers without connections. */
    void left(String peer) {
        perPeer.computeIfPresent(peer, (key, count) -> count <= 1 ? null : count - 1);
    }

    void record(String action, String peer, String remote, String reason, String detail) {
        audit.record(AuditEvent.builder(clock.instant(), action, AuditEvent.Outcome.REFUSED)
                .field("identity", peer)
                .field("remote", remote)
                .field("reason", reason)
                .field("detail", detail)
                .build());
    }

    @Override
    public String toString() {
        return "ConnectionLimits[handshake=" + handshakeTimeout + ", requestHead=" + requestHeadTimeout + ", idle="
                + idleTimeout + ", perIdentity=" + maxConnectionsPerIdentity + ", total=" + maxConnections + "]";
    }

    /** Builds {@link ConnectionLimits}. Durations must be positive and are rounded up to whole milliseconds. */
    public static final class Builder {
        private Duration handshakeTimeout = Duration.ofSeconds(10);
        private Duration requestHeadTimeout = Duration.ofSeconds(10);
        private Duration idleTimeout = Duration.ofSeconds(30);
        private int maxConnectionsPerIdentity = 64;
        private int maxConnections = 10_000;
        private AuditLog audit = AuditLog.slf4j();
        private Clock clock = Clock.systemUTC();

        private Builder() {
        }

        /** The longest a TLS handshake may take from the connection's start (default 10 seconds). */
        public Builder handshakeTimeout(Duration timeout) {
            this.handshakeTimeout = millis("handshakeTimeout", timeout);
            return this;
        }

        /**
         * The longest a request head (request line and headers) may take from its first byte
         * (default 10 seconds); bytes trickling in do not extend it.
         */
        public Builder requestHeadTimeout(Duration timeout) {
            this.requestHeadTimeout = millis("requestHeadTimeout", timeout);
            return this;
        }

        /**
         * The longest a connection may stay without a byte read or written while no request is in
         * progress: after its handshake and between requests (default 30 seconds).
         */
        public Builder idleTimeout(Duration timeout) {
            this.idleTimeout = millis("idleTimeout", timeout);
            return this;
        }

        /** The most connections one peer identity may hold open at once (default 64). */
        public Builder maxConnectionsPerIdentity(int max) {
            this.maxConnectionsPerIdentity = atLeastOne("maxConnectionsPerIdentity", max);
            return this;
        }

        /** The most connections the server may hold open at once (default 10,000). */
        public Builder maxConnections(int max) {
            this.maxConnections = atLeastOne("maxConnections", max);
            return this;
        }

        /** Where closes and refusals are recorded (default {@link AuditLog#slf4j()}). */
        public Builder auditLog(AuditLog audit) {
            this.audit = Objects.requireNonNull(audit, "audit");
            return this;
        }

        /** The clock that stamps those events. */
        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /** Builds the limits. */
        public ConnectionLimits build() {
            return new ConnectionLimits(this);
        }

        /** Positive, rounded up to whole milliseconds: the unit Netty's timers are given here. */
        private static Duration millis(String option, Duration value) {
            return Duration.ofMillis(Durations.toMillisRoundedUp(Durations.requirePositive(option, value)));
        }

        private static int atLeastOne(String option, int value) {
            if (value < 1) {
                throw new IllegalArgumentException(option + " must be at least 1; got " + value);
            }
            return value;
        }
    }
}
