package io.settler.zerotrust.queue;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.settler.zerotrust.token.ServiceTokenException;
import io.settler.zerotrust.token.ServiceTokens;
import io.settler.zerotrust.token.TokenAlgorithm;
import io.settler.zerotrust.token.TokenKey;
import io.settler.zerotrust.token.TokenRequest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Envelope signing and verification, without any broker. */
class EnvelopeVerifierTest {

    private final Fixtures fixtures = new Fixtures();
    private final EnvelopeVerifier verifier = fixtures.verifier();

    @Test
    void acceptsSealedMessageAndExposesItsJti() {
        Envelope envelope = fixtures.signer().seal("job-1".getBytes(UTF_8));
        VerifiedMessage message = verifier.verify(Envelope.fromFields(envelope.toFields()));
        assertThat(message.payload()).isEqualTo("job-1".getBytes(UTF_8));
        assertThat(message.publisher()).isEqualTo(Fixtures.API);
        assertThat(message.publisherService()).isEqualTo("api");
        assertThat(message.jti()).isNotBlank();
        assertThat(envelope.toString()).doesNotContain(envelope.token());
    }

    @Test
    void refusesForgedMessageSignedByUnknownKey() {
        TokenKey rogue = TokenKey.generate(TokenAlgorithm.ED25519, "api-1"); // same kid, another key
        ServiceTokens forger = ServiceTokens.builder().identity(Fixtures.API).signingKey(rogue).build();
        Envelope forged = EnvelopeSigner.builder(forger, "jobs").build().seal("rm -rf".getBytes(UTF_8));
        assertRejected(forged, QueueException.Reason.FORGED);
    }

    @Test
    void refusesTamperedPayloadAndKeepsTheGenuineJtiUnused() {
        Envelope genuine = fixtures.signer().seal("pay 10".getBytes(UTF_8));
        assertRejected(Envelope.of("pay 10000".getBytes(UTF_8), genuine.token()), QueueException.Reason.TAMPERED);
        assertThat(verifier.verify(genuine).payload()).isEqualTo("pay 10".getBytes(UTF_8));
    }

    @Test
    void refusesReplayedMessage() {
        Envelope envelope = fixtures.signer().seal("once".getBytes(UTF_8));
        verifier.verify(envelope);
        assertRejected(envelope, QueueException.Reason.REPLAYED);
    }

    @Test
    void eachConsumerGroupHandlesAMessageOnceAndRefusesItsReplay() {
        Envelope envelope = fixtures.signer().seal("once per group".getBytes(UTF_8));
        verifier.verify(envelope, "api", "workers", null, false);
        verifier.verify(envelope, "api", "audit", null, false); // another group: its first use
        for (String group : new String[] {"workers", "audit"}) {
            assertThatThrownBy(() -> verifier.verify(envelope, "api", group, null, false))
                    .isInstanceOfSatisfying(QueueException.class,
                            e -> assertThat(e.reason()).isEqualTo(QueueException.Reason.REPLAYED));
        }
    }

    @Test
    void refusesExpiredMessage() {
        Clock past = Clock.fixed(Instant.now().minus(Duration.ofHours(1)), ZoneOffset.UTC);
        Envelope old = EnvelopeSigner.builder(fixtures.api(past), "jobs").lifetime(Duration.ofMinutes(5)).build()
                .seal("late".getBytes(UTF_8));
        assertRejected(old, QueueException.Reason.EXPIRED);
    }

    @Test
    void refusesWrongScopeMessage() {
        byte[] payload = "job".getBytes(UTF_8);
        String token = fixtures.api().mint(TokenRequest.to(Fixtures.QUEUE_ID).scopes("queue:other:publish")
                .claim("pld", Queues.digest(payload)).build());
        assertRejected(Envelope.of(payload, token), QueueException.Reason.WRONG_SCOPE);
    }

    @Test
    void refusesWrongPublisherNotGrantedTheQueue() {
        Envelope fromBilling = EnvelopeSigner.builder(fixtures.billing(), "jobs").build().seal("job".getBytes(UTF_8));
        assertRejected(fromBilling, QueueException.Reason.WRONG_PUBLISHER);
    }

    @Test
    void refusesMessageFoundInAnotherPublishersStream() {
        Envelope envelope = fixtures.signer().seal("job".getBytes(UTF_8));
        assertThatThrownBy(() -> verifier.verify(envelope, "billing", null, null, false))
                .isInstanceOfSatisfying(QueueException.class,
                        e -> assertThat(e.reason()).isEqualTo(QueueException.Reason.WRONG_PUBLISHER));
    }

    @Test
    void refusesMessageMintedForAnotherQueue() {
        Envelope other = EnvelopeSigner.builder(fixtures.api(), "other").build().seal("job".getBytes(UTF_8));
        assertRejected(other, QueueException.Reason.WRONG_QUEUE);
    }

    @Test
    void refusesTokenWithoutPayloadDigest() {
        String token = fixtures.api().mint(TokenRequest.to(Fixtures.QUEUE_ID).scopes("queue:jobs:publish").build());
        assertRejected(Envelope.of("job".getBytes(UTF_8), token), QueueException.Reason.TAMPERED);
    }

    @Test
    void publisherCannotSealForQueueThePolicyDoesNotGrant() {
        assertThatThrownBy(() -> EnvelopeSigner.builder(fixtures.api(), "payroll").build().seal(new byte[1]))
                .isInstanceOf(ServiceTokenException.class);
    }

    @Test
    void refusesMalformedEntries() {
        Map<String, String> fields = new LinkedHashMap<>(fixtures.signer().seal("x".getBytes(UTF_8)).toFields());
        fields.put("extra", "1");
        assertMalformed(fields);
        fields.remove("extra");
        fields.put("pld", fields.get("pld") + "=");
        assertMalformed(fields);
        fields.put("pld", "eA");
        fields.put("v", "2");
        assertMalformed(fields);
        assertMalformed(Map.of());
        assertThatThrownBy(() -> Envelope.of(new byte[Envelope.MAX_PAYLOAD_BYTES + 1], "t"))
                .isInstanceOfSatisfying(QueueException.class,
                        e -> assertThat(e.reason()).isEqualTo(QueueException.Reason.MALFORMED));
    }

    @Test
    void verifierMustBeTheQueuesAudienceAndHaveAReplayGuard() {
        assertThatThrownBy(() -> EnvelopeVerifier.builder(fixtures.api(), "jobs").policy(Fixtures.POLICY)
                .replayGuard((i, j, e) -> true).build())
                .isInstanceOfSatisfying(QueueException.class,
                        e -> assertThat(e.reason()).isEqualTo(QueueException.Reason.INVALID_CONFIGURATION));
        assertThatThrownBy(
                () -> EnvelopeVerifier.builder(fixtures.queueTokens(), "jobs").policy(Fixtures.POLICY).build())
                .isInstanceOfSatisfying(QueueException.class,
                        e -> assertThat(e.reason()).isEqualTo(QueueException.Reason.INVALID_CONFIGURATION));
    }

    private void assertRejected(Envelope envelope, QueueException.Reason reason) {
        int before = fixtures.audit.withAction("queue.message_rejected").size();
        assertThatThrownBy(() -> verifier.verify(envelope))
                .isInstanceOfSatisfying(QueueException.class, e -> {
                    assertThat(e.reason()).isEqualTo(reason);
                    assertThat(e.isRejection()).isTrue();
                    assertThat(e.getMessage()).doesNotContain(envelope.token());
                });
        assertThat(fixtures.audit.withAction("queue.message_rejected")).hasSize(before + 1);
        assertThat(fixtures.audit.withAction("queue.message_rejected").get(before).fields().get("reason"))
                .isEqualTo(reason.name());
    }

    private static void assertMalformed(Map<String, String> fields) {
        assertThatThrownBy(() -> Envelope.fromFields(fields)).isInstanceOfSatisfying(QueueException.class,
                e -> assertThat(e.reason()).isEqualTo(QueueException.Reason.MALFORMED));
    }
}
