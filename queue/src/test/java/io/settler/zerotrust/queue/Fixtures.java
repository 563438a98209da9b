package io.settler.zerotrust.queue;

import io.settler.zerotrust.credentials.CredentialSource;
import io.settler.zerotrust.credentials.TlsIdentity;
import io.settler.zerotrust.credentials.TrustBundle;
import io.settler.zerotrust.pki.IssuedCertificate;
import io.settler.zerotrust.policy.Policy;
import io.settler.zerotrust.redis.HardenedRedis;
import io.settler.zerotrust.redis.PasswordSource;
import io.settler.zerotrust.redis.RedisAcl;
import io.settler.zerotrust.testkit.LocalRedis;
import io.settler.zerotrust.testkit.LocalRedisCluster;
import io.settler.zerotrust.testkit.RecordingAuditLog;
import io.settler.zerotrust.token.InMemoryReplayGuard;
import io.settler.zerotrust.token.KeySet;
import io.settler.zerotrust.token.ReplayGuard;
import io.settler.zerotrust.token.ServiceTokens;
import io.settler.zerotrust.token.TokenAlgorithm;
import io.settler.zerotrust.token.TokenKey;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

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

    /** api's genuine key pair, kept so a test can play a stolen api key that signs what no minter would. */
    final KeyPair apiKeyPair = ed25519();
    final TokenKey apiKey = TokenKey.ed25519("api-1", apiKeyPair).forIssuers(API);
    final TokenKey billingKey = TokenKey.generate(TokenAlgorithm.ED25519, "billing-1").forIssuers(BILLING);
    final RecordingAuditLog audit = RecordingAuditLog.logging();

    private static KeyPair ed25519() {
        try {
            return KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("every JDK 17 has Ed25519", e);
        }
    }

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
        return EnvelopeVerifier.builder(queueTokens(), "jobs").policy(POLICY).replayGuard(guard)
                .auditLog(audit).build();
    }

    EnvelopeVerifier verifier() {
        return verifier(InMemoryReplayGuard.create(10_000));
    }

    /**
     * Loads the ACL users {@link RedisAcl} renders from {@link #POLICY} into a test server, with
     * these passwords (keyed by service name), plus an {@code operator} user with {@code operatorRules}.
     */
    static void loadRenderedAcl(LocalRedis redis, Map<String, String> passwords, String operatorRules) {
        loadAcl(redis, renderAcl(RedisAcl.builder(POLICY), passwords), passwords.get("operator"), operatorRules);
    }

    /**
     * The same for a cluster: the ACL rendered {@link RedisAcl.Builder#forCluster() for a cluster},
     * loaded on every node (ACLs are per node); the operator also gets {@link RedisAcl#clusterClientRules()}.
     */
    static void loadRenderedAcl(LocalRedisCluster cluster, Map<String, String> passwords, String operatorRules) {
        RedisAcl acl = renderAcl(RedisAcl.builder(POLICY).forCluster(), passwords);
        String operator = operatorRules + " " + String.join(" ", RedisAcl.clusterClientRules());
        cluster.nodes().forEach(node -> loadAcl(node, acl, passwords.get("operator"), operator));
    }

    private static RedisAcl renderAcl(RedisAcl.Builder builder, Map<String, String> passwords) {
        passwords.forEach((service, password) -> {
            if (!service.equals("operator")) {
                builder.password(service, password.toCharArray());
            }
        });
        return builder.build();
    }

    private static void loadAcl(LocalRedis redis, RedisAcl acl, String operatorPassword, String operatorRules) {
        for (String user : acl.users()) {
            List<String> command = new ArrayList<>(List.of("ACL", "SETUSER", user, "reset"));
            command.addAll(acl.rules(user));
            redis.executeAsAdmin(command.toArray(String[]::new));
        }
        redis.createUser("operator", operatorPassword, operatorRules);
    }

    /**
     * A hardened client of {@code user} on {@code redis} (for a cluster: any node), with a fresh
     * password file in {@code directory}, the user's client certificate and the server's CA:
     * {@code build()} it for one server, {@code buildCluster()} for a cluster.
     */
    static HardenedRedis.Builder redisClient(LocalRedis redis, String user, String password, Path directory) {
        try {
            Path file = Files.createTempFile(directory, user, ".password");
            Files.writeString(file, password + "\n");
            IssuedCertificate certificate = redis.clientCertificate(user);
            return HardenedRedis.builder().host(redis.host()).port(redis.tlsPort()).user(user)
                    .password(PasswordSource.fromFile(file))
                    .credentials(CredentialSource.fixed(TlsIdentity.of(certificate.privateKey(), certificate.chain()),
                            TrustBundle.of(List.of(redis.certificateAuthority().rootCertificate()))))
                    .ioThreads(1);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
