package io.settler.zerotrust.micrometer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.settler.zerotrust.audit.AuditLog;
import io.settler.zerotrust.audit.CoreAudit;
import io.settler.zerotrust.audit.LogSafe;
import io.settler.zerotrust.testkit.RecordingAuditLog;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The counting rule, on catalogues the module does not know: names, tags, the cap, timers, failures. */
class AuditMetersTest {

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final AuditLog metrics = ZeroTrustMetrics.builder(registry).maxTagValues(10).build().auditLog();

    @Test
    void countsAnEntryOfAnyCatalogueInItsMeterTaggedByActionOutcomeAndItsDeclaredTags() {
        metrics.event(TestAudit.REFUSED_CHECK).field("audience", "orders").field("remote", "203.0.113.9")
                .field("reason", "EXPIRED").field("detail", "expired at 12:00").record();
        metrics.event(TestAudit.REFUSED_CHECK).field("audience", "orders").field("remote", "203.0.113.10")
                .field("reason", "EXPIRED").field("detail", "expired at 12:01").record();

        Counter counter = registry.get("zerotrust.test.checks").counter();
        assertThat(counter.count()).isEqualTo(2.0);
        assertThat(counter.getId().getTags()).containsExactlyInAnyOrder(Tag.of("action", "thing.refused"),
                Tag.of("outcome", "REFUSED"), Tag.of("audience", "orders"), Tag.of("reason", "EXPIRED"));
    }

    @Test
    void aDeclaredTagTheEventLacksIsNone() {
        metrics.event(CoreAudit.PEER_ACCEPTED).field("role", "client").field("remote", "127.0.0.1").record();

        assertThat(registry.get("zerotrust.tls.peers").tag("rule", ZeroTrustMetrics.NONE).tag("role", "client")
                .counter().count()).isEqualTo(1.0);
    }

    @Test
    void aTallyIsTheSameCounterIncrementedWithoutAnEventAlsoBehindAnotherLog() {
        AuditLog.Tally tally = AuditLog.slf4j().alsoTo(metrics).tally(TestAudit.CHECKED,
                Map.of("audience", "orders", "jti", "j-1"));
        metrics.event(TestAudit.CHECKED).field("audience", "orders").field("jti", "j-2").record();

        for (int i = 0; i < 3; i++) {
            tally.add();
        }

        Counter counter = registry.get("zerotrust.test.checks").tag("audience", "orders").counter();
        assertThat(counter.count()).as("one event and three tallies, one counter").isEqualTo(4.0);
        assertThat(registry.getMeters()).hasSize(1);
    }

    @Test
    void aTallyCleansItsTagValuesAsAnEventDoesSoBothLandOnOneLogSafeCounter() {
        String unsafe = "orders\nforged=1";
        AuditLog.Tally tally = metrics.tally(TestAudit.CHECKED, Map.of("audience", unsafe, "jti", "j-1"));
        metrics.event(TestAudit.CHECKED).field("audience", unsafe).field("jti", "j-2").record();
        tally.add();

        assertThat(registry.getMeters()).hasSize(1);
        Counter counter = registry.get("zerotrust.test.checks").counter();
        assertThat(counter.count()).isEqualTo(2.0);
        assertThat(counter.getId().getTag("audience")).doesNotContain("\n").isEqualTo(LogSafe.text(unsafe));
    }

    @Test
    void wantsEveryEntryIncludingRoutineDebugOnesSoTheyAreBuiltWhenCounted() {
        assertThat(metrics.records(TestAudit.CHECKED)).isTrue();
        assertThat(AuditLog.slf4j().alsoTo(metrics).records(TestAudit.CHECKED)).isTrue();
    }

    @Test
    void aTimedEventIsAlsoRecordedInTheMetersDurationTimer() {
        long start = System.nanoTime() - TimeUnit.MILLISECONDS.toNanos(5);
        metrics.event(TestAudit.CHECKED).field("audience", "orders").field("jti", "j-1").field("remote", "10.0.0.1")
                .elapsedSince(start).record();
        metrics.event(TestAudit.CHECKED).field("audience", "orders").field("jti", "j-2").field("remote", "10.0.0.2")
                .record();

        Timer timer = registry.get("zerotrust.test.checks.duration").tag("action", "thing.checked").timer();
        assertThat(timer.count()).isEqualTo(1);
        assertThat(timer.totalTime(TimeUnit.MILLISECONDS)).isGreaterThanOrEqualTo(5.0);
        assertThat(registry.get("zerotrust.test.checks").tag("action", "thing.checked").counter().count())
                .isEqualTo(2.0);
    }

    @Test
    void neverTagsUndeclaredFieldsSuchAsTokenIdsOrAddresses() {
        for (int i = 0; i < 50; i++) {
            metrics.event(TestAudit.CHECKED).field("audience", "orders").field("jti", "jti-" + i)
                    .field("remote", "10.0.0." + i).record();
        }

        assertThat(registry.getMeters()).hasSize(1);
        for (Meter meter : registry.getMeters()) {
            assertThat(meter.getId().getTags()).extracting(Tag::getKey).doesNotContain("jti", "remote", "detail");
        }
    }

    @Test
    void foldsTagValuesBeyondTheCapIntoOtherSoAHostileSourceCannotGrowTheRegistry() {
        for (int i = 0; i < 1000; i++) {
            metrics.event(TestAudit.REFUSED_CHECK).field("audience", "aud-" + i).field("reason", "R" + (i % 3))
                    .field("remote", "198.51.100.1").field("detail", "x").record();
        }

        var counters = registry.find("zerotrust.test.checks").counters();
        assertThat(counters.stream().map(c -> c.getId().getTag("audience")).distinct())
                .hasSize(11).contains(ZeroTrustMetrics.OTHER);
        assertThat(counters.stream().mapToDouble(Counter::count).sum()).isEqualTo(1000.0);
        assertThat(registry.get("zerotrust.test.checks").tag("audience", ZeroTrustMetrics.OTHER).counters()
                .stream().mapToDouble(Counter::count).sum()).isEqualTo(990.0);
        // The cap is per tag key: the three reasons stay apart.
        assertThat(counters.stream().map(c -> c.getId().getTag("reason")).distinct()).hasSize(3);
    }

    @Test
    void neverThrowsWhenTheRegistryOrAMeterFilterDoes() {
        SimpleMeterRegistry broken = new SimpleMeterRegistry();
        broken.config().meterFilter(new MeterFilter() {
            @Override
            public Meter.Id map(Meter.Id id) {
                throw new IllegalStateException("a broken meter filter");
            }
        });
        AuditLog log = ZeroTrustMetrics.builder(broken).build().auditLog();

        assertThatCode(() -> log.event(CoreAudit.PEER_REFUSED).field("role", "client").field("reason", "NO_CERT")
                .record()).doesNotThrowAnyException();
        assertThatCode(() -> log.event(TestAudit.CHECKED).elapsedSince(System.nanoTime()).record())
                .doesNotThrowAnyException();
    }

    @Test
    void composesWithAnotherLogThatStillSeesEveryEvent() {
        RecordingAuditLog recording = new RecordingAuditLog();
        AuditLog both = recording.alsoTo(metrics);

        both.event(CoreAudit.PEER_REFUSED).field("role", "client").field("reason", "UNTRUSTED").record();

        assertThat(recording.events()).hasSize(1);
        assertThat(registry.get("zerotrust.tls.peers").tag("reason", "UNTRUSTED").counter().count()).isEqualTo(1.0);
    }
}
