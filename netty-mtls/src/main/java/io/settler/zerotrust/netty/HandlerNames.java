package io.settler.zerotrust.netty;

/** The pipeline names our handlers are added under, so applications can insert around them. */
public final class HandlerNames {

    /** The {@code SslHandler}. */
    public static final String TLS = "zerotrust-tls";
    /** The {@link PeerIdentityHandler}. */
    public static final String PEER_IDENTITY = "zerotrust-peer-identity";

    private HandlerNames() {
    }
}
