package io.settler.zerotrust.queue;

import io.settler.zerotrust.audit.AuditEvent;
import io.settler.zerotrust.audit.AuditLog;
import io.settler.zerotrust.policy.Policy;
import io.settler.zerotrust.redis.RedisAcl;
import io.settler.zerotrust.testkit.LocalRedis;
import io.settler.zerotrust.token.InMemoryReplayGuard;
import io.settler.zerotrust.token.KeySet;
import io.settler.zerotrust.token.ReplayGuard;
import io.settler.zerotrust.token.ServiceTokens;
import io.settler.zerotrust.token.TokenAlgorithm;
import io.settler.zerotrust.token.TokenKey;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

/** A policy, keys and token services shared by the queue tests; keys are generated per instance. */
final class Fixtures {

    static final String API = "spiffe://queue.test/api";
    static final String BILLING = "spiffe://queue.test/billing";
    static final String QUEUE_ID = "spiffe://queue.test/queue/jobs";

    /** api may publish to jobs (and other); billing only to other; worker consumes jobs. */
    static final Policy POLICY = Policy.builder("queue.test")
            .service("api", api -> api.scopes("queue:jobs:publish", "queue:other:publish"))
            .service("billing", billing -> billing.scopes("queue:other:publish"))
            .service("worker", worker -> worker.scopes("queue:jobs:consume", "redis:worker:write"))
            .build();

    final TokenKey apiKey = TokenKey.generate(TokenAlgorithm.ED25519, "api-1").forIssuers(API);
    final TokenKey billingKey = TokenKey.generate(TokenAlgorithm.ED25519, "billing-1").forIssuers(BILLING);
    final Audit audit = new Audit();

    ServiceTokens api() {
        return api(Clock.systemUTC());
    }

    ServiceTokens api(Clock clock) {
        return ServiceTokens.builder().identity(API).signingKey(apiKey).policy(POLICY).clock(clock).build();
    }

    /** billing without the policy, so it can mint a jobs token the policy does not grant it. */
    ServiceTokens billing() {
        return ServiceTokens.builder().identity(BILLING).signingKey(billingKey).build();
    }

    ServiceTokens queueTokens() {
        return ServiceTokens.builder().identity(QUEUE_ID)
                .verificationKeys(KeySet.of(apiKey.verifyOnly(), billingKey.verifyOnly()))
                .trustIssuers(API, BILLING).auditLog(audit).build();
    }

    EnvelopeSigner signer() {
        return EnvelopeSigner.builder(api(), "jobs").build();
    }

    EnvelopeVerifier verifier(ReplayGuard guard) {
        return EnvelopeVerifier.builder(queueTokens(), "jobs").policy(POLICY).replayGuard(guard).auditLog(audit).build();
    }

    EnvelopeVerifier verifier() {
        return verifier(InMemoryReplayGuard.create(10_000));
    }

    /** Audit events kept in memory (and logged). */
    /**
     * Loads the ACL users {@link RedisAcl} renders from {@link #POLICY} into a test server, with
     * these passwords (keyed by service name), plus an {@code operator} user with {@code operatorRules}.
     */
    static void loadRenderedAcl(LocalRedis redis, Map<String, String> passwords, String operatorRules) {
        RedisAcl.Builder builder = RedisAcl.builder(POLICY);
        passwords.forEach((service, password) -> {
            if (!service.equals("operator")) {
                builder.password(service, password.toCharArray());
            }
        });
        RedisAcl acl = builder.build();
        for (String user : acl.users()) {
            List<String> command = new ArrayList<>(List.of("ACL", "SETUSER", user, "reset"));
            command.addAll(acl.rules(user));
            redis.executeAsAdmin(command.toArray(String[]::new));
        }
        redis.createUser("operator", passwords.get("operator"), operatorRules);
    }

    static final class Audit implements AuditLog {
        final List<AuditEvent> events = new CopyOnWriteArrayList<>();

        @Override
        public void record(AuditEvent event) {
            AuditLog.slf4j().record(event);
            events.add(event);
        }

        List<AuditEvent> named(String action) {
            return events.stream().filter(e -> e.action().equals(action)).toList();
        }
    }
}
