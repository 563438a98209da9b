package io.settler.zerotrust.queue.rabbitmq;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.lettuce.core.api.sync.RedisCommands;
import io.settler.zerotrust.audit.AuditLog;
import io.settler.zerotrust.credentials.CredentialSource;
import io.settler.zerotrust.credentials.TlsIdentity;
import io.settler.zerotrust.credentials.TrustBundle;
import io.settler.zerotrust.policy.Policy;
import io.settler.zerotrust.queue.EnvelopeSigner;
import io.settler.zerotrust.queue.EnvelopeVerifier;
import io.settler.zerotrust.redis.KeyNamespace;
import io.settler.zerotrust.redis.RedisReplayGuard;
import io.settler.zerotrust.tls.MtlsContext;
import io.settler.zerotrust.token.KeySet;
import io.settler.zerotrust.token.ServiceTokens;
import io.settler.zerotrust.token.TokenKey;
import java.time.Duration;
import java.util.List;

/**
 * The deployment the failover tests share with the worker process they kill: the policy, the
 * broker's users and permissions, and how a service connects to the cluster and verifies envelopes.
 */
final class Deployment {

    static final String API = "spiffe://queue.test/api";
    static final String WORKER = "spiffe://queue.test/worker";
    static final String OPERATOR = "spiffe://queue.test/operator";
    static final String QUEUE = "jobs";
    /**
     * The workers' lease on a message: short, so the message of a killed worker runs again within seconds
     * (meanwhile the other worker keeps its delivery deferred, unacknowledged, and counts no redelivery).
     */
    static final Duration LEASE = Duration.ofSeconds(3);
    static final Policy POLICY = Policy.builder("queue.test")
            .service("api", api -> api.scopes("queue:jobs:publish"))
            .service("worker", worker -> worker.scopes("queue:jobs:consume"))
            .build();
    /** The test's own administrator, beside the rendered users: it purges and counts the queues between tests. */
    static final String ADMIN = "admin";
    /**
     * The broker's users and permissions rendered from the policy, and {@link #ADMIN}; not the rendered
     * topology: loaded at boot, node 0 would declare the quorum queue while it is alone, with itself as
     * its only member, and stopping it would stop the queue. The test declares it once the cluster formed.
     */
    static final String DEFINITIONS = withAdmin(RabbitMqBrokerConfig.builder(POLICY).virtualHost(QUEUE)
            .operator("operator").build().definitionsJson());

    private Deployment() {
    }

    private static String withAdmin(String definitions) {
        try {
            ObjectNode root = (ObjectNode) new ObjectMapper().readTree(definitions);
            root.remove(List.of("queues", "exchanges", "bindings"));
            String admin = "spiffe://queue.test/" + ADMIN;
            ((ArrayNode) root.get("users")).addObject().put("name", admin).put("password_hash", "").putArray("tags");
            ((ArrayNode) root.get("permissions")).addObject().put("user", admin).put("vhost", QUEUE)
                    .put("configure", ".*").put("write", ".*").put("read", ".*");
            return root.toString();
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("the rendered definitions are not JSON", e);
        }
    }

    /** Connections of one service to every node of the cluster, in the order given (host:port each). */
    static RabbitMqConnections connections(CredentialSource credentials, List<String> nodes, AuditLog audit) {
        RabbitMqConnections.Builder builder = RabbitMqConnections.builder(MtlsContext.client(credentials)
                .auditLog(audit).build()).virtualHost(QUEUE).reconnectTimeout(Duration.ofSeconds(60)).auditLog(audit);
        for (int i = 0; i < nodes.size(); i++) {
            String host = nodes.get(i).substring(0, nodes.get(i).lastIndexOf(':'));
            int port = Integer.parseInt(nodes.get(i).substring(nodes.get(i).lastIndexOf(':') + 1));
            if (i == 0) {
                builder.host(host).port(port);
            } else {
                builder.node(host, port);
            }
        }
        return builder.build();
    }

    static CredentialSource credentials(TlsIdentity identity, TrustBundle trust) {
        return CredentialSource.fixed(identity, trust);
    }

    static EnvelopeSigner signer(TokenKey key) {
        return EnvelopeSigner.builder(ServiceTokens.builder().identity(API).signingKey(key).policy(POLICY).build(),
                QUEUE).build();
    }

    /** The queue's verifier, with the api's public keys (a JWK Set) and the replay guard on {@code guard}. */
    static EnvelopeVerifier verifier(String apiJwks, RedisCommands<String, String> guard, AuditLog audit) {
        ServiceTokens queueTokens = ServiceTokens.builder().identity("spiffe://queue.test/queue/jobs")
                .verificationKeys(KeySet.fromJwks(apiJwks).pinnedTo(API)).trustIssuers(API).auditLog(audit).build();
        return EnvelopeVerifier.builder(queueTokens, QUEUE).policy(POLICY)
                .replayGuard(RedisReplayGuard.builder(guard, KeyNamespace.of("worker")).build()).auditLog(audit)
                .build();
    }
}
