package io.settler.zerotrust.examples.webhook;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;

class WebhookSignatureTest {

    private static final Instant NOW = Instant.parse("2026-11-28T12:00:00Z");
    private static final Duration TOLERANCE = Duration.ofMinutes(5);
    private static final byte[] BODY = "{\"job\":\"42\",\"status\":\"done\"}".getBytes(StandardCharsets.UTF_8);

    private static byte[] secret() {
        byte[] secret = new byte[32];
        new SecureRandom().nextBytes(secret);
        return secret;
    }

    private static Clock at(Instant instant) {
        return Clock.fixed(instant, ZoneOffset.UTC);
    }

    private final byte[] secret = secret();
    private final WebhookSignature signer = WebhookSignature.of(at(NOW), secret);

    @Test
    void receiverAcceptsWhatTheSenderSigned() {
        String header = signer.sign(BODY);

        assertThat(header).matches("t=" + NOW.getEpochSecond() + ",v1=[0-9a-f]{64}");
        assertThatCode(() -> WebhookSignature.of(at(NOW.plusSeconds(30)), secret).verify(header, BODY, TOLERANCE))
                .doesNotThrowAnyException();
    }

    @Test
    void refusesTamperedPayload() {
        String header = signer.sign(BODY);
        byte[] tampered = "{\"job\":\"42\",\"status\":\"failed\"}".getBytes(StandardCharsets.UTF_8);

        assertThatThrownBy(() -> signer.verify(header, tampered, TOLERANCE))
                .isInstanceOf(WebhookSignatureException.class).hasMessageContaining("no signature matches");
    }

    @Test
    void refusesReplayOutsideTheTolerance() {
        String header = signer.sign(BODY);
        WebhookSignature later = WebhookSignature.of(at(NOW.plus(Duration.ofMinutes(6))), secret);

        assertThatThrownBy(() -> later.verify(header, BODY, TOLERANCE))
                .isInstanceOf(WebhookSignatureException.class).hasMessageContaining("outside the tolerance");
    }

    @Test
    void refusesRetimestampedSignature() {
        String header = signer.sign(BODY);
        String moved = header.replace("t=" + NOW.getEpochSecond(), "t=" + (NOW.getEpochSecond() + 60));

        assertThatThrownBy(() -> signer.verify(moved, BODY, TOLERANCE))
                .isInstanceOf(WebhookSignatureException.class).hasMessageContaining("no signature matches");
    }

    @Test
    void refusesSignatureMadeWithAnotherSecret() {
        String header = WebhookSignature.of(at(NOW), secret()).sign(BODY);

        assertThatThrownBy(() -> signer.verify(header, BODY, TOLERANCE)).isInstanceOf(WebhookSignatureException.class);
    }

    @Test
    void refusesMalformedHeaders() {
        String valid = signer.sign(BODY);
        for (String header : new String[] {null, "", "v1=" + "a".repeat(64), "t=1", "t=abc,v1=" + "a".repeat(64),
                valid + ",x=1", valid.toUpperCase(), "t=" + NOW.getEpochSecond() + ",v1=abc", "t=" + "9".repeat(20)
                + ",v1=" + "a".repeat(64), valid + "," + "v1=" + "a".repeat(64) + ",".repeat(2000)}) {
            assertThatThrownBy(() -> signer.verify(header, BODY, TOLERANCE)).as(String.valueOf(header))
                    .isInstanceOf(WebhookSignatureException.class);
        }
    }

    @Test
    void rotationSignsWithBothSecretsAndEitherVerifies() {
        byte[] next = secret();
        String header = WebhookSignature.of(at(NOW), next, secret).sign(BODY);

        assertThat(header.split(",")).hasSize(3);
        assertThatCode(() -> signer.verify(header, BODY, TOLERANCE)).doesNotThrowAnyException();
        assertThatCode(() -> WebhookSignature.of(at(NOW), next).verify(header, BODY, TOLERANCE))
                .doesNotThrowAnyException();
    }

    @Test
    void refusesShortSecret() {
        assertThatThrownBy(() -> WebhookSignature.of(at(NOW), new byte[16]))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("at least 32");
    }
}
