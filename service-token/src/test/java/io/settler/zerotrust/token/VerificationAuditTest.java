package io.settler.zerotrust.token;

import static io.settler.zerotrust.token.TestKeys.API;
import static io.settler.zerotrust.token.TestKeys.PROXY;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.settler.zerotrust.audit.AuditAction;
import io.settler.zerotrust.audit.AuditEvent;
import io.settler.zerotrust.audit.AuditLog;
import io.settler.zerotrust.testkit.MutableClock;
import io.settler.zerotrust.testkit.RecordingAuditLog;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Verifications are audited for metrics: each success as {@code token.verified} (DEBUG, only when the
 * log records it), each rejection as {@code token.rejected}; a cold verification and a rejection are
 * timed, a cached one is counted through the log's {@link AuditLog#tally} (for a meter registry, one
 * increment); a log that does not want {@code token.verified} is given nothing.
 */
class VerificationAuditTest {

    private final MutableClock clock = new MutableClock();
    private final TokenKey apiKey = TestKeys.es256("api-1");
    private final ServiceTokens api = ServiceTokens.builder().identity(API).signingKey(apiKey).clock(clock).build();

    private ServiceTokens proxy(AuditLog audit) {
        return ServiceTokens.builder().identity(PROXY).verificationKeys(KeySet.of(apiKey.verifyOnly().forIssuers(API)))
                .trustIssuers(API).clock(clock).auditLog(audit).build();
    }

    @Test
    void eachVerificationIsRecordedTimedWithWhetherItWasCached() {
        RecordingAuditLog audit = new RecordingAuditLog();
        ServiceTokens proxy = proxy(audit);
        String token = api.mint(PROXY, List.of("db:read"));

        proxy.verify(token, "db:read");
        proxy.verifyWithoutWaiting(token, "db:read");

        List<AuditEvent> verified = audit.withAction(TokenAudit.VERIFIED);
        assertThat(verified).hasSize(2).allSatisfy(event -> {
            assertThat(event.outcome()).isEqualTo(AuditEvent.Outcome.ALLOWED);
            assertThat(event.fields()).containsEntry("issuer", API).containsEntry("audience", PROXY);
            for (String part : token.split("\\.")) {
                assertThat(event.fields().values()).noneMatch(value -> value.contains(part));
            }
        });
        assertThat(verified).extracting(event -> event.fields().get("cached")).containsExactly("false", "true");
        assertThat(verified.get(0).elapsed()).as("the cold verification is timed").isNotNull().isPositive();
        assertThat(verified.get(1).elapsed()).as("the cached one is only counted").isNull();
        assertThat(TokenAudit.VERIFIED.definition().level()).isEqualTo(AuditAction.Level.DEBUG);
        assertThat(TokenAudit.VERIFIED.definition().meter()).isEqualTo(TokenAudit.REJECTED.definition().meter());
    }

    @Test
    void rejectionsAreTimed() {
        RecordingAuditLog audit = new RecordingAuditLog();
        String token = api.mint(PROXY, List.of("db:read"));

        assertThatThrownBy(() -> proxy(audit).verify(token, "db:write")).isInstanceOf(TokenRejectedException.class);

        AuditEvent rejected = audit.single(TokenAudit.REJECTED);
        assertThat(rejected.fields()).containsEntry("audience", PROXY).containsEntry("reason", "INSUFFICIENT_SCOPE");
        assertThat(rejected.elapsed()).isNotNull().isPositive();
        assertThat(audit.withAction(TokenAudit.VERIFIED)).isEmpty();
    }

    @Test
    void aLogThatDropsVerifiedEventsIsGivenNoneAndNotAskedAgainForCachedVerifications() {
        List<AuditAction> asked = new ArrayList<>();
        List<AuditEvent> recorded = new ArrayList<>();
        AuditLog rejectionsOnly = new AuditLog() {
            @Override
            public void record(AuditEvent event) {
                recorded.add(event);
            }

            @Override
            public boolean records(AuditAction action) {
                asked.add(action);
                return action != TokenAudit.VERIFIED;
            }
        };
        ServiceTokens proxy = proxy(rejectionsOnly);
        String token = api.mint(PROXY, List.of("db:read"));

        for (int i = 0; i < 3; i++) {
            proxy.verify(token, "db:read");
        }

        assertThat(recorded).isEmpty();
        assertThat(asked).as("asked for the cold verification and its tally, not per cached one")
                .containsExactly(TokenAudit.VERIFIED, TokenAudit.VERIFIED);
    }

    @Test
    void aCountingLogPaysOneTallyAddPerCachedVerificationAndBuildsNoEvent() {
        List<Map<String, String>> tallied = new ArrayList<>();
        AtomicInteger added = new AtomicInteger();
        List<AuditEvent> recorded = new ArrayList<>();
        AuditLog counting = new AuditLog() {
            @Override
            public void record(AuditEvent event) {
                recorded.add(event);
            }

            @Override
            public Tally tally(AuditAction action, Map<String, String> fields) {
                tallied.add(Map.copyOf(fields));
                return added::incrementAndGet;
            }
        };
        ServiceTokens proxy = proxy(counting);
        String token = api.mint(PROXY, List.of("db:read"));

        for (int i = 0; i < 5; i++) {
            proxy.verify(token, "db:read");
        }

        assertThat(recorded).as("only the cold verification is an event").singleElement()
                .satisfies(event -> assertThat(event.fields()).containsEntry("cached", "false"));
        assertThat(tallied).containsExactly(Map.of("issuer", API, "audience", PROXY, "cached", "true"));
        assertThat(added).hasValue(4);
    }
}
