package io.settler.zerotrust.redis;

import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.event.connection.ReconnectFailedEvent;
import io.lettuce.core.resource.ClientResources;
import io.settler.zerotrust.audit.AuditLog;
import io.settler.zerotrust.audit.LogSafe;
import java.net.InetSocketAddress;

/**
 * Audits reconnects that the server refuses for the login: a {@code WRONGPASS}, {@code NOAUTH} or
 * {@code NOPERM} while Lettuce re-establishes a connection (e.g. a Redis node restarted without
 * the user, or with another password). Lettuce only logs those at WARN and retries; the
 * application sees "Currently not connected". Each refused attempt becomes a {@code redis.refused}
 * event ({@code AUTHENTICATION_FAILED}, or {@code CONNECTION_FAILED} for {@code NOPERM}) naming the
 * node and what to fix. Failed handshakes are audited by {@link TlsHandshakeGuard}, and a node that
 * is simply down is not a refusal. It listens on the client's event bus
 * ({@link ReconnectFailedEvent}), which lives and ends with the client resources.
 */
final class ReconnectAudit {

    private ReconnectAudit() {
    }

    /** Subscribes to {@code resources}' event bus for the lifetime of the resources. */
    static void subscribe(ClientResources resources, String user, AuditLog audit) {
        resources.eventBus().get()
                .ofType(ReconnectFailedEvent.class)
                .subscribe(event -> record(event, user, audit));
    }

    /** The server's error reply (e.g. {@code WRONGPASS ...}), which Lettuce wraps in several layers. */
    private static String reply(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof RedisCommandExecutionException) {
                return LogSafe.text(String.valueOf(t.getMessage()));
            }
        }
        return HardenedRedis.describe(failure);
    }

    private static void record(ReconnectFailedEvent event, String user, AuditLog audit) {
        boolean noPermission = String.valueOf(HardenedRedis.describe(event.getCause())).contains("NOPERM");
        RedisTlsException.Reason reason = HardenedRedis.classify(event.getCause());
        if (reason != RedisTlsException.Reason.AUTHENTICATION_FAILED && !noPermission) {
            return;
        }
        String server = event.remoteAddress() instanceof InetSocketAddress remote
                ? remote.getHostString() + ":" + remote.getPort() : String.valueOf(event.remoteAddress());
        // Recorded, not thrown: the event arrives on an I/O thread, and Lettuce keeps retrying.
        // The fix first: the detail field keeps 300 characters.
        audit.event(RedisAudit.CONNECTION_REFUSED).field("server", server).field("user", user)
                .because(new RedisTlsException(reason, server + " refused the login of '" + user + "' on reconnect"
                        + " (attempt " + event.getAttempt() + "); load the RedisAcl users from every node's aclfile at"
                        + " start, ACL SAVE after run-time changes: " + reply(event.getCause())))
                .record();
    }
}
