package io.settler.zerotrust.spring.replay;

import io.settler.zerotrust.spring.hello.HelloController;
import io.settler.zerotrust.testkit.RecordingAuditLog;
import io.settler.zerotrust.token.KeySet;
import io.settler.zerotrust.token.ReplayGuard;
import io.settler.zerotrust.token.ServiceTokens;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Import;
import org.springframework.core.io.Resource;

/**
 * A WebFlux service whose token verifier asks a replay guard that may block (as a Redis-backed one
 * does): the default chain must ask it off the event loop.
 */
@SpringBootApplication(proxyBeanMethods = false)
@Import(HelloController.class)
public class ReplayCheckedApplication {

    /** The gateway, the only issuer. */
    static final String GATEWAY = "spiffe://example.org/gateway";

    /** Records and logs every audit event. */
    @Bean
    RecordingAuditLog auditLog() {
        return RecordingAuditLog.logging();
    }

    @Bean
    RecordingReplayGuard replayGuard() {
        return new RecordingReplayGuard();
    }

    /** The application's own verifier: the starter's backs off. */
    @Bean
    ServiceTokens serviceTokens(@Value("${zerotrust.tokens.issuers.gateway.jwks}") Resource jwks,
                                RecordingReplayGuard guard) throws IOException {
        return ServiceTokens.builder().identity("spiffe://example.org/api")
                .verificationKeys(KeySet.fromJwks(jwks.getContentAsString(StandardCharsets.UTF_8)).pinnedTo(GATEWAY))
                .trustIssuers(GATEWAY).replayGuard(guard).build();
    }

    /** Remembers each token and the thread each check ran on; says it may block (the default). */
    public static final class RecordingReplayGuard implements ReplayGuard {
        private final Set<String> used = ConcurrentHashMap.newKeySet();
        private final List<String> threads = new CopyOnWriteArrayList<>();

        @Override
        public boolean firstUse(String issuer, String jti, Instant expiresAt) {
            threads.add(Thread.currentThread().getName());
            return used.add(issuer + " " + jti);
        }

        /** The names of the threads the checks ran on. */
        public List<String> threads() {
            return List.copyOf(threads);
        }
    }
}
