package io.settler.zerotrust.redis;

import static io.settler.zerotrust.audit.AuditEvent.Outcome.ALLOWED;
import static io.settler.zerotrust.audit.AuditEvent.Outcome.INFO;
import static io.settler.zerotrust.audit.AuditEvent.Outcome.REFUSED;
import static io.settler.zerotrust.audit.AuditEvent.Outcome.WARNING;

import io.settler.zerotrust.audit.AuditAction;
import io.settler.zerotrust.audit.AuditEvent;

/**
 * The audit catalogue of the redis-tls module: client postures, TLS handshakes, proven and refused
 * connections (configuration and ACL rendering included), and replayed tokens.
 */
@SuppressWarnings("ImmutableEnumChecker") // Definition is a record of strings and List.copyOf lists
public enum RedisAudit implements AuditAction {

    /** A connection was proven: an allowed TLS version and {@code ACL WHOAMI} is the configured user. */
    CONNECTED(AuditAction.define("redis.connected", ALLOWED, "zerotrust.redis.connections")
            .fields("server", "user", "protocol", "client_fingerprint", "server_fingerprint")
            .tags("user", "protocol", "reason")
            .describe("A Redis connection was proven: its channel negotiated an allowed TLS version and the server"
                    + " authenticated it as the configured ACL user.")),
    /** A client setting, a connection, its proof, a reconnect's login or an ACL rendering was refused. */
    CONNECTION_REFUSED(AuditAction.define("redis.refused", REFUSED, "zerotrust.redis.connections")
            .fields("server", "user", "reason", "detail").tags("user", "protocol", "reason")
            .describe("A Redis client setting, connection or login was refused, or RedisAcl refused to render the"
                    + " policy (server acl-rendering): reason says which rule, detail what to fix.")),
    /** A TLS handshake with a Redis server completed with an allowed protocol. */
    TLS_HANDSHAKE(AuditAction.define("redis.tls.handshake", ALLOWED, "zerotrust.redis.handshakes")
            .fields("protocol", "cipher_suite", "client_fingerprint", "server_fingerprint", "remote")
            .tags("protocol", "cipher_suite", "reason")
            .describe("A TLS handshake with a Redis server (connect or reconnect) completed: the protocol, suite"
                    + " and both certificates' fingerprints.")),
    /** A TLS handshake with a Redis server failed, or negotiated a protocol that is not allowed. */
    TLS_REFUSED(AuditAction.define("redis.tls.refused", REFUSED, "zerotrust.redis.handshakes")
            .fields("reason", "detail", "remote").tags("protocol", "cipher_suite", "reason")
            .describe("A Redis channel's TLS handshake failed or negotiated a TLS version that is not allowed; the"
                    + " channel was closed: check the server's certificate, name and TLS settings.")),
    /** The settings of a new single-server client. */
    CLIENT_POSTURE(posture("redis.client.posture", INFO)
            .describe("A Redis client was built: TLS 1.3, full verification, bounded queue and timeouts.")),
    /** The settings of a new single-server client that allows TLS 1.2. */
    CLIENT_POSTURE_WEAKENED(posture("redis.client.posture", WARNING)
            .describe("A Redis client was built that allows TLS 1.2 (allowTls12): remove it once the server speaks"
                    + " TLS 1.3.")),
    /** The settings of a new Redis Cluster client. */
    CLUSTER_POSTURE(posture("redis.cluster.posture", INFO)
            .describe("A Redis Cluster client was built: TLS 1.3, full verification with the node identity, bounded"
                    + " queue and timeouts.")),
    /** The settings of a new Redis Cluster client that allows TLS 1.2. */
    CLUSTER_POSTURE_WEAKENED(posture("redis.cluster.posture", WARNING)
            .describe("A Redis Cluster client was built that allows TLS 1.2 (allowTls12): remove it once every node"
                    + " speaks TLS 1.3.")),
    /** RedisReplayGuard refused a token: used before, expired, or without an issuer or id. */
    REPLAY_REFUSED(AuditAction.define("token.replay_refused", REFUSED, "zerotrust.token.replays")
            .fields("reason", "issuer", "jti").tags("reason")
            .describe("A token was refused by the Redis replay guard (reason REPLAYED, EXPIRED or EMPTY_ID): a"
                    + " replayed token means a copy of it is in someone else's hands."));

    private final Definition definition;

    RedisAudit(Definition definition) {
        this.definition = definition;
    }

    @Override
    public Definition definition() {
        return definition;
    }

    /** A client's posture: the same fields for one server and a cluster, TLS 1.3 only or weakened. */
    private static Definition.Builder posture(String action, AuditEvent.Outcome outcome) {
        return AuditAction.define(action, outcome, "zerotrust.redis.clients")
                .fields("server", "user", "protocols", "verify", "disconnected_behavior", "request_queue_size",
                        "command_timeout", "connect_timeout")
                .tags("protocols");
    }
}
