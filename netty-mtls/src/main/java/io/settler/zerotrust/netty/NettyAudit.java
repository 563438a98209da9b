package io.settler.zerotrust.netty;

import static io.settler.zerotrust.audit.AuditEvent.Outcome.ALLOWED;
import static io.settler.zerotrust.audit.AuditEvent.Outcome.INFO;
import static io.settler.zerotrust.audit.AuditEvent.Outcome.REFUSED;

import io.settler.zerotrust.audit.AuditAction;

/**
 * The audit catalogue of the netty-mtls module: Netty TLS contexts and handshakes, connection
 * limits and closes, refused requests, and bearer tokens withheld from the wrong server.
 */
@SuppressWarnings("ImmutableEnumChecker") // Definition is a record of strings and List.copyOf lists
public enum NettyAudit implements AuditAction {

    /** A Netty TLS context was built: the provider in use and why. */
    TLS_NETTY(AuditAction.define("tls.netty", INFO, "zerotrust.netty.contexts")
            .fields("role", "provider", "provider_requested", "provider_fallback", "openssl_unavailable_cause",
                    "protocols", "connection_limits")
            .tags("role", "provider", "provider_requested")
            .describe("A Netty TLS context was built with this provider (provider_fallback says why AUTO chose the"
                    + " JDK) and, for servers, these connection limits.")),
    /** A TLS handshake of a channel set up by NettyMtls completed and its peer was published. */
    TLS_HANDSHAKE(AuditAction.define("tls.handshake", ALLOWED, "zerotrust.tls.handshakes")
            .level(AuditAction.Level.DEBUG)
            .fields("role", "provider", "protocol", "identity", "remote").tags("role", "provider")
            .describe("A TLS handshake completed, timed from the connection's start; routine, logged only at"
                    + " DEBUG: watch its duration for slow peers or an overloaded server.")),
    /** A connection was refused before or right after its handshake: source network or connection caps. */
    CONNECTION_REFUSED(AuditAction.define("connection.refused", REFUSED, "zerotrust.netty.connections")
            .fields("identity", "remote", "reason", "detail").tags("reason")
            .describe("A connection was refused (reason: SOURCE_NETWORK, CONNECTION_LIMIT or"
                    + " IDENTITY_CONNECTION_LIMIT): a scan or flood, or limits too low for legitimate load.")),
    /** An open connection was closed: a timeout, or its peer's certificate expired, lost trust or was revoked. */
    CONNECTION_CLOSED(AuditAction.define("connection.closed", REFUSED, "zerotrust.netty.connections")
            .fields("identity", "fingerprint", "remote", "reason", "detail").tags("reason")
            .describe("The server closed a connection (reason): a handshake, request-head or idle timeout, or a"
                    + " peer whose certificate expired, no longer verifies or whose identity the policy revoked.")),
    /** An HTTP request was refused: rate limited, or no acceptable service token for its route. */
    REQUEST_REFUSED(AuditAction.define("request.refused", REFUSED, "zerotrust.netty.requests")
            .fields("peer", "method", "path", "status", "reason", "detail").tags("reason")
            .describe("An HTTP request was refused (reason): a peer over its rate limit, or a request without a"
                    + " token its route accepts; the token's own rejection is a token.rejected event.")),
    /** A client did not attach a service token because the server is not shown to be the token's audience. */
    TOKEN_WITHHELD(AuditAction.define("token.withheld", REFUSED, "zerotrust.netty.withheld_tokens")
            .fields("audience", "server", "fingerprint", "remote", "reason", "detail").tags("audience", "reason")
            .describe("A request was not sent because the server did not prove the token's audience (reason):"
                    + " a misrouted request or a server impersonating another; set expectedServer on the client."));

    private final Definition definition;

    NettyAudit(Definition definition) {
        this.definition = definition;
    }

    @Override
    public Definition definition() {
        return definition;
    }
}
