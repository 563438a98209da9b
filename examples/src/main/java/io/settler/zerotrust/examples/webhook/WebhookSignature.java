package io.settler.zerotrust.examples.webhook;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Signs outbound webhook payloads the way receivers of webhooks expect: a header
 * {@code t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.payload">}. The timestamp is signed with the
 * body, so a receiver refuses replays older than its tolerance; several {@code v1} values let a
 * sender sign with an old and a new secret while receivers rotate.
 *
 * <pre>{@code
 * WebhookSignature signer = WebhookSignature.of(secret, Clock.systemUTC());
 * request.header(WebhookSignature.HEADER, signer.sign(body));
 * // receiver:
 * signer.verify(request.header(WebhookSignature.HEADER), body, Duration.ofMinutes(5));
 * }</pre>
 *
 * Immutable and thread-safe.
 */
public final class WebhookSignature {

    /** The HTTP header that carries the signature. */
    public static final String HEADER = "Settler-Signature";

    private static final int MIN_SECRET_BYTES = 32;
    private static final int MAX_HEADER_LENGTH = 1024;
    private static final HexFormat HEX = HexFormat.of();

    private final List<SecretKeySpec> secrets;
    private final Clock clock;

    private WebhookSignature(List<byte[]> secrets, Clock clock) {
        this.secrets = secrets.stream().map(secret -> {
            if (secret.length < MIN_SECRET_BYTES) {
                throw new IllegalArgumentException("a webhook secret needs at least " + MIN_SECRET_BYTES
                        + " random bytes; got " + secret.length);
            }
            return new SecretKeySpec(secret.clone(), "HmacSHA256");
        }).toList();
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    /**
     * A signer and verifier with one secret, or, during a rotation, the new secret first and the
     * old one after it: signatures then carry one {@code v1} per secret.
     */
    public static WebhookSignature of(Clock clock, byte[] secret, byte[]... previousSecrets) {
        List<byte[]> all = new ArrayList<>();
        all.add(Objects.requireNonNull(secret, "secret"));
        all.addAll(List.of(previousSecrets));
        return new WebhookSignature(all, clock);
    }

    /** The header value for {@code payload}, signed now. */
    public String sign(byte[] payload) {
        long seconds = clock.instant().getEpochSecond();
        StringBuilder header = new StringBuilder("t=").append(seconds);
        for (SecretKeySpec secret : secrets) {
            header.append(",v1=").append(HEX.formatHex(mac(secret, seconds, payload)));
        }
        return header.toString();
    }

    /**
     * Checks a received header against the payload as received.
     *
     * @param tolerance how old (or how far in the future) the timestamp may be
     * @throws WebhookSignatureException if the header is malformed, too old or too new, or no
     *     {@code v1} matches any of our secrets
     */
    public void verify(String header, byte[] payload, Duration tolerance) {
        Objects.requireNonNull(payload, "payload");
        if (header == null || header.isEmpty() || header.length() > MAX_HEADER_LENGTH) {
            throw new WebhookSignatureException("missing or oversized " + HEADER + " header");
        }
        Long seconds = null;
        List<byte[]> candidates = new ArrayList<>();
        for (String part : header.split(",", -1)) {
            if (part.startsWith("t=") && seconds == null) {
                seconds = parseSeconds(part.substring(2));
            } else if (part.startsWith("v1=") && part.length() == 3 + 64 && isLowerHex(part, 3)) {
                candidates.add(HEX.parseHex(part, 3, part.length()));
            } else {
                throw new WebhookSignatureException(
                        "malformed " + HEADER + " header: expected t=<seconds>,v1=<64 hex>");
            }
        }
        if (seconds == null || candidates.isEmpty()) {
            throw new WebhookSignatureException("malformed " + HEADER + " header: needs one t= and at least one v1=");
        }
        Instant signedAt = Instant.ofEpochSecond(seconds);
        Instant now = clock.instant();
        if (signedAt.isBefore(now.minus(tolerance)) || signedAt.isAfter(now.plus(tolerance))) {
            throw new WebhookSignatureException("signature timestamp " + signedAt + " is outside the tolerance of "
                    + tolerance + " around " + now + " (a replay, or a clock to fix)");
        }
        for (SecretKeySpec secret : secrets) {
            byte[] expected = mac(secret, seconds, payload);
            for (byte[] candidate : candidates) {
                if (MessageDigest.isEqual(expected, candidate)) {
                    return;
                }
            }
        }
        throw new WebhookSignatureException(
                "no signature matches: the payload was changed, or signed with another secret");
    }

    private static long parseSeconds(String text) {
        if (text.isEmpty() || text.length() > 12 || !text.chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw new WebhookSignatureException("malformed " + HEADER + " timestamp: expected unix seconds");
        }
        return Long.parseLong(text);
    }

    private static boolean isLowerHex(String text, int from) {
        for (int i = from; i < text.length(); i++) {
            char c = text.charAt(i);
            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
                return false;
            }
        }
        return true;
    }

    private static byte[] mac(SecretKeySpec secret, long seconds, byte[] payload) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(secret);
            mac.update((seconds + ".").getBytes(StandardCharsets.US_ASCII));
            return mac.doFinal(payload);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this JDK lacks HmacSHA256", e);
        }
    }

    @Override
    public String toString() {
        return "WebhookSignature[" + secrets.size() + " secret(s)]";
    }
}
