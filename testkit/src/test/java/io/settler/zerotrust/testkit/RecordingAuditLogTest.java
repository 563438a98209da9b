package io.settler.zerotrust.testkit;

import static io.settler.zerotrust.testkit.RecordingAuditLog.field;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.settler.zerotrust.audit.AuditAction;
import io.settler.zerotrust.audit.AuditEvent;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The recorder keeps what it was given, in order, across threads, and fails naming what it saw. */
class RecordingAuditLogTest {

    private final RecordingAuditLog audit = new RecordingAuditLog();

    /** Entries named like real ones, so the string lookups are tested as they are used. */
    @SuppressWarnings("ImmutableEnumChecker")
    private enum Sample implements AuditAction {
        PEER_REFUSED("peer.refused"), PEER_ACCEPTED("peer.accepted"), CONNECTION_CLOSED("connection.closed"),
        CONNECTION_REFUSED("connection.refused");

        private final Definition definition;

        Sample(String action) {
            definition = AuditAction.define(action, AuditEvent.Outcome.REFUSED, "zerotrust.sample")
                    .fields("reason").describe("A sample.");
        }

        @Override
        public Definition definition() {
            return definition;
        }

        static Sample named(String action) {
            return Arrays.stream(values()).filter(entry -> entry.action().equals(action)).findFirst().orElseThrow();
        }
    }

    private static AuditEvent event(String action, String reason) {
        return new AuditEvent(Instant.EPOCH, Sample.named(action), Map.of("reason", reason));
    }

    @Test
    void findsEventsByTheirCatalogueEntry() {
        AuditEvent refused = event("peer.refused", "EXPIRED");
        audit.record(event("peer.accepted", "NONE"));
        audit.record(refused);

        assertThat(audit.single(Sample.PEER_REFUSED)).isSameAs(refused);
        assertThat(audit.last(Sample.PEER_REFUSED)).isSameAs(refused);
        assertThat(audit.withAction(Sample.CONNECTION_CLOSED)).isEmpty();
        assertThat(audit.awaitAction(Sample.PEER_REFUSED, Duration.ofMillis(10))).isSameAs(refused);
        assertThatThrownBy(() -> audit.single(Sample.CONNECTION_CLOSED)).isInstanceOf(AssertionError.class)
                .hasMessageContaining("CONNECTION_CLOSED").hasMessageContaining("peer.accepted");
    }

    @Test
    void keepsEventsInOrderAndFiltersThemByAction() {
        AuditEvent first = event("peer.refused", "EXPIRED");
        AuditEvent accepted = event("peer.accepted", "NONE");
        AuditEvent second = event("peer.refused", "REVOKED");
        audit.record(first);
        audit.record(accepted);
        audit.record(second);

        assertThat(audit.events()).containsExactly(first, accepted, second);
        assertThat(audit.actions()).containsExactly("peer.refused", "peer.accepted", "peer.refused");
        assertThat(audit.withAction("peer.refused")).containsExactly(first, second);
        assertThat(audit.withAction("token.rejected")).isEmpty();
        assertThat(audit.last("peer.refused")).isSameAs(second);
        assertThat(audit.single("peer.accepted")).isSameAs(accepted);
    }

    @Test
    void snapshotsDoNotChangeWithLaterEvents() {
        audit.record(event("peer.refused", "EXPIRED"));
        List<AuditEvent> before = audit.events();

        audit.record(event("peer.refused", "REVOKED"));

        assertThat(before).hasSize(1);
        assertThat(audit.events()).hasSize(2);
        assertThatThrownBy(() -> before.add(event("peer.refused", "X")))
                .isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    void lastAndSingleFailListingWhatWasRecorded() {
        audit.record(event("peer.refused", "EXPIRED"));
        audit.record(event("peer.refused", "REVOKED"));

        assertThatThrownBy(() -> audit.last("token.rejected")).isInstanceOf(AssertionError.class)
                .hasMessageContaining("no token.rejected event").hasMessageContaining("[peer.refused, peer.refused]");
        assertThatThrownBy(() -> audit.single("token.rejected")).isInstanceOf(AssertionError.class)
                .hasMessageContaining("found 0").hasMessageContaining("peer.refused");
        assertThatThrownBy(() -> audit.single("peer.refused")).isInstanceOf(AssertionError.class)
                .hasMessageContaining("found 2").hasMessageContaining("EXPIRED").hasMessageContaining("REVOKED");
    }

    @Test
    void clearForgetsEverything() {
        audit.record(event("peer.refused", "EXPIRED"));

        audit.clear();

        assertThat(audit.events()).isEmpty();
        assertThat(audit.withAction("peer.refused")).isEmpty();
    }

    @Test
    void awaitReturnsAnEventRecordedBeforeWithoutWaiting() {
        AuditEvent refused = event("peer.refused", "EXPIRED");
        audit.record(refused);

        long start = System.nanoTime();
        assertThat(audit.awaitAction("peer.refused", Duration.ofSeconds(10))).isSameAs(refused);
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
    }

    @Test
    void awaitWakesUpForAMatchingEventFromAnotherThread() throws Exception {
        ExecutorService executor = Executors.newSingleThreadExecutor();
        try {
            CountDownLatch waiting = new CountDownLatch(1);
            Future<AuditEvent> awaited = executor.submit(() -> {
                waiting.countDown();
                return audit.await("connection.closed", field("reason", "IDLE_TIMEOUT"), Duration.ofSeconds(30));
            });
            assertThat(waiting.await(10, TimeUnit.SECONDS)).isTrue();
            audit.record(event("connection.closed", "REQUEST_HEAD_TIMEOUT")); // the action, not the field
            audit.record(event("connection.refused", "IDLE_TIMEOUT")); // the field, not the action
            AuditEvent idle = event("connection.closed", "IDLE_TIMEOUT");
            audit.record(idle);

            assertThat(awaited.get(20, TimeUnit.SECONDS)).isSameAs(idle);
        } finally {
            executor.shutdownNow();
        }
    }

    @Test
    void awaitFailsAfterTheTimeoutListingWhatWasRecorded() {
        audit.record(event("connection.closed", "REQUEST_HEAD_TIMEOUT"));

        long start = System.nanoTime();
        assertThatThrownBy(() -> audit.await("connection.closed", field("reason", "IDLE_TIMEOUT"),
                Duration.ofMillis(200))).isInstanceOf(AssertionError.class)
                .hasMessageContaining("no matching connection.closed event within PT0.2S")
                .hasMessageContaining("REQUEST_HEAD_TIMEOUT");
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(Duration.ofMillis(200));
    }

    @Test
    void keepsEveryEventRecordedConcurrently() throws Exception {
        int threads = 4;
        int perThread = 500;
        ExecutorService executor = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                String reason = "T" + t;
                done.add(executor.submit(() -> {
                    for (int i = 0; i < perThread; i++) {
                        audit.record(event("peer.refused", reason));
                    }
                }));
            }
            for (Future<?> future : done) {
                future.get(30, TimeUnit.SECONDS);
            }
        } finally {
            executor.shutdownNow();
        }

        assertThat(audit.events()).hasSize(threads * perThread);
        for (int t = 0; t < threads; t++) {
            assertThat(audit.events()).filteredOn(field("reason", "T" + t)).hasSize(perThread);
        }
    }

    @Test
    void loggingAlsoRecords() {
        RecordingAuditLog logging = RecordingAuditLog.logging();
        AuditEvent refused = event("peer.refused", "EXPIRED");

        logging.record(refused);

        assertThat(logging.events()).containsExactly(refused);
    }
}
