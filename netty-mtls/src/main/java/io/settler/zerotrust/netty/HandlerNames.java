package io.settler.zerotrust.netty;

/** The pipeline names our handlers are added under, so applications can insert around them. */
public final class HandlerNames {

    /** The {@code SslHandler}. */
    public static final String TLS = "zerotrust-tls";
    /** The {@link PeerIdentityHandler}. */
    public static final String PEER_IDENTITY = "zerotrust-peer-identity";

    /**
     * Netty's {@code IdleStateHandler} for {@link ConnectionLimits#idleTimeout()} (servers, once the
     * handshake completed).
     */
    public static final String CONNECTION_IDLE = "zerotrust-connection-idle";
    /** The handler that enforces {@link ConnectionLimits} (servers). */
    public static final String CONNECTION_LIMITS = "zerotrust-connection-limits";
    /** Follows the HTTP codec on servers: tells the connection limits when request heads and responses pass. */
    public static final String REQUEST_TRACKER = "zerotrust-request-tracker";

    private HandlerNames() {
    }
}
