package io.settler.zerotrust.queue;

import io.settler.zerotrust.audit.LogSafe;
import io.settler.zerotrust.identity.TrustDomain;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.regex.Pattern;

/** Names shared by signer, verifier, publisher and consumer. */
final class Queues {

    /** The claim binding the payload: base64url SHA-256 of the payload bytes. */
    static final String PAYLOAD_DIGEST_CLAIM = "pld";

    private static final Pattern NAME = Pattern.compile("[a-z0-9_.-]{1,128}");

    private Queues() {
    }

    /** A configuration error: {@link QueueException.Reason#INVALID_CONFIGURATION}, saying what to fix. */
    static QueueException invalid(String message) {
        return new QueueException(QueueException.Reason.INVALID_CONFIGURATION, message);
    }

    static String checkName(String queue) {
        if (queue == null || !NAME.matcher(queue).matches()) {
            throw new QueueException(QueueException.Reason.INVALID_CONFIGURATION, "a queue name is 1 to 128 lower-case"
                    + " letters, digits, '.', '-' or '_'; got '" + LogSafe.text(String.valueOf(queue)) + "'");
        }
        return queue;
    }

    /** The audience of the queue's tokens: {@code spiffe://<trust domain>/queue/<name>}. */
    static String audience(TrustDomain trustDomain, String queue) {
        return trustDomain.identity("queue/" + queue).toString();
    }

    /** The scope a publisher's token carries. */
    static String publishScope(String queue) {
        return "queue:" + queue + ":publish";
    }

    static String digest(byte[] payload) {
        try {
            return Envelope.encode(MessageDigest.getInstance("SHA-256").digest(payload));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    static boolean sameAscii(String a, String b) {
        return MessageDigest.isEqual(a.getBytes(StandardCharsets.US_ASCII), b.getBytes(StandardCharsets.US_ASCII));
    }
}
