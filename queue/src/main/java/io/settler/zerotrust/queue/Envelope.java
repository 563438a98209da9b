package io.settler.zerotrust.queue;

import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What travels through a queue: the payload and the one-time service token that vouches for it.
 * Transport-neutral: {@link #toFields()} / {@link #fromFields(Map)} map it to the string fields of
 * a Redis stream entry (or any broker's headers); signing and verifying never depend on the
 * transport. Immutable.
 */
public final class Envelope {

    /** The largest payload accepted, 1 MiB. */
    public static final int MAX_PAYLOAD_BYTES = 1 << 20;
    /** The longest token accepted in an envelope. */
    public static final int MAX_TOKEN_CHARS = 8192;

    static final String VERSION_FIELD = "v";
    static final String TOKEN_FIELD = "tok";
    static final String PAYLOAD_FIELD = "pld";
    static final String VERSION = "1";
    /** The fields of an envelope on a stream entry. */
    static final List<String> FIELDS = List.of(VERSION_FIELD, TOKEN_FIELD, PAYLOAD_FIELD);

    private final byte[] payload;
    private final String token;

    private Envelope(byte[] payload, String token) {
        this.payload = payload;
        this.token = token;
    }

    /** An envelope of {@code payload} (copied) and its token. */
    public static Envelope of(byte[] payload, String token) {
        Objects.requireNonNull(payload, "payload");
        Objects.requireNonNull(token, "token");
        if (payload.length > MAX_PAYLOAD_BYTES) {
            throw new QueueException(QueueException.Reason.MALFORMED, "the payload is " + payload.length
                    + " bytes; the limit is " + MAX_PAYLOAD_BYTES
                    + " (store large data elsewhere and send a reference)");
        }
        if (token.isEmpty() || token.length() > MAX_TOKEN_CHARS) {
            throw new QueueException(QueueException.Reason.MALFORMED, "the token must be 1 to " + MAX_TOKEN_CHARS
                    + " characters; got " + token.length());
        }
        return new Envelope(payload.clone(), token);
    }

    /**
     * Reads the fields written by {@link #toFields()}: exactly {@code v=1}, {@code tok} and
     * {@code pld} (canonical unpadded base64url), nothing else.
     *
     * @throws QueueException {@link QueueException.Reason#MALFORMED} otherwise
     */
    public static Envelope fromFields(Map<String, String> fields) {
        if (fields == null || fields.size() != 3 || !VERSION.equals(fields.get(VERSION_FIELD))
                || fields.get(TOKEN_FIELD) == null || fields.get(PAYLOAD_FIELD) == null) {
            throw new QueueException(QueueException.Reason.MALFORMED, "an envelope has exactly the fields v=1, tok and"
                    + " pld; got " + (fields == null ? "none" : fields.keySet().size() + " fields"));
        }
        String encoded = fields.get(PAYLOAD_FIELD);
        if (encoded.length() > (MAX_PAYLOAD_BYTES / 3 + 1) * 4) {
            throw new QueueException(QueueException.Reason.MALFORMED, "the payload field is over "
                    + MAX_PAYLOAD_BYTES + " bytes");
        }
        byte[] payload;
        try {
            payload = Base64.getUrlDecoder().decode(encoded);
        } catch (IllegalArgumentException e) {
            throw new QueueException(QueueException.Reason.MALFORMED, "the payload field is not base64url");
        }
        if (!encode(payload).equals(encoded)) {
            throw new QueueException(QueueException.Reason.MALFORMED, "the payload field is not canonical unpadded"
                    + " base64url");
        }
        return of(payload, fields.get(TOKEN_FIELD));
    }

    /** The fields of a stream entry: {@code v}, {@code tok}, {@code pld} (base64url), in that order. */
    public Map<String, String> toFields() {
        Map<String, String> fields = new LinkedHashMap<>();
        fields.put(VERSION_FIELD, VERSION);
        fields.put(TOKEN_FIELD, token);
        fields.put(PAYLOAD_FIELD, encode(payload));
        return fields;
    }

    /** A copy of the payload. */
    public byte[] payload() {
        return payload.clone();
    }

    byte[] payloadUnsafe() {
        return payload;
    }

    /** The one-time token; never log it. */
    public String token() {
        return token;
    }

    static String encode(byte[] bytes) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof Envelope that && Arrays.equals(payload, that.payload) && token.equals(that.token);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(payload) + token.hashCode();
    }

    /** Sizes only: never the token or the payload. */
    @Override
    public String toString() {
        return "Envelope[payload=" + payload.length + " bytes, token=" + token.length() + " chars]";
    }
}
