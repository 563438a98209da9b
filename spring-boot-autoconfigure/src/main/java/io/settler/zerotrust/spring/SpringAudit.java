package io.settler.zerotrust.spring;

import static io.settler.zerotrust.audit.AuditEvent.Outcome.ALLOWED;
import static io.settler.zerotrust.audit.AuditEvent.Outcome.INFO;
import static io.settler.zerotrust.audit.AuditEvent.Outcome.REFUSED;
import static io.settler.zerotrust.audit.AuditEvent.Outcome.WARNING;

import io.settler.zerotrust.audit.AuditAction;

/**
 * The audit catalogue of the Spring Boot integration: a refused start, the embedded server's TLS
 * posture, each HTTP request's authentication decision, refused tenant transactions and refused
 * outgoing requests, failed rounds of the queue consumer.
 */
@SuppressWarnings("ImmutableEnumChecker") // Definition is a record of strings and List.copyOf lists
public enum SpringAudit implements AuditAction {

    /** The application did not start: a zerotrust or server setting is missing or insecure. */
    STARTUP_REFUSED(AuditAction.define("spring.startup.refused", REFUSED, "zerotrust.spring.startups")
            .fields("setting", "reason", "detail").tags("reason")
            .describe("The Boot application refused to start because a setting (setting) is missing or insecure"
                    + " (reason); the detail says what to write.")),
    /** The embedded server was configured for mutual TLS by the library. */
    SERVER_TLS(AuditAction.define("spring.server.tls", INFO, "zerotrust.spring.servers")
            .fields("server", "service", "identity", "protocols", "client_auth", "ssl_bundle")
            .tags("server")
            .describe("The embedded web server takes mutual TLS from the library's context: these protocols, client"
                    + " certificates required and authorized by the policy, and the SSL bundle fed by rotation.")),
    /** An HTTP request carried a valid service token of the connection's own certificate identity. */
    REQUEST_AUTHENTICATED(AuditAction.define("spring.request.authenticated", ALLOWED, "zerotrust.spring.requests")
            .level(AuditAction.Level.DEBUG)
            .fields("peer", "method", "path", "scopes").tags("reason")
            .describe("A request was authenticated by its service token (scopes become SCOPE_ authorities);"
                    + " routine, logged only at DEBUG.")),
    /** An HTTP request was refused: 401 without an acceptable token, 403 when its authorities do not suffice. */
    REQUEST_REFUSED(AuditAction.define("spring.request.refused", REFUSED, "zerotrust.spring.requests")
            .fields("peer", "method", "path", "status", "reason", "detail").tags("reason")
            .describe("A request was refused with 401 (no, or no acceptable, service token; a token of another"
                    + " identity than the connection's certificate) or 403 (ACCESS_DENIED by an authorization rule);"
                    + " the token's own rejection is a token.rejected event.")),
    /** A tenant transaction was refused: the caller has no service token with a tenant claim. */
    TENANT_REFUSED(AuditAction.define("spring.tenant.refused", REFUSED, "zerotrust.spring.tenants")
            .fields("peer", "reason", "detail").tags("reason")
            .describe("A transaction on the zerotrust.postgres data source was refused before any connection was"
                    + " borrowed: the caller (peer) was not authenticated by a service token (NOT_AUTHENTICATED) or"
                    + " its token has no tenant claim (NO_TENANT_CLAIM), so it has no tenant's rows to see.")),
    /** An outgoing request of a zero-trust client was refused before it was sent. */
    CLIENT_REFUSED(AuditAction.define("spring.client.refused", REFUSED, "zerotrust.spring.clients")
            .fields("client", "url", "reason", "detail").tags("client", "reason")
            .describe("A request of the zerotrust.clients client (client) was not sent, with no token, because"
                    + " its URL is not https (reason PLAINTEXT_URL); the server's identity is checked in the"
                    + " handshake (peer.refused).")),
    /** A round of the zerotrust.queue consumer's poller failed; it waits and polls again. */
    QUEUE_POLL_FAILED(AuditAction.define("spring.queue.poll_failed", WARNING, "zerotrust.spring.queues")
            .fields("queue", "group", "consumer", "reason", "detail").tags("reason")
            .describe("A poll of the zerotrust.queue consumer (queue, group, consumer) failed, e.g. NO_GROUP (the"
                    + " operator has not created the consumer group) or the Redis connection is down (the"
                    + " exception's class as reason); nothing was handled or acknowledged in the failed part, and"
                    + " the poller tries again after zerotrust.queue.consume.poll-interval."));

    private final Definition definition;

    SpringAudit(Definition definition) {
        this.definition = definition;
    }

    @Override
    public Definition definition() {
        return definition;
    }
}
