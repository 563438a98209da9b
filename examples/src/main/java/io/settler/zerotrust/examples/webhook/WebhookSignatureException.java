package io.settler.zerotrust.examples.webhook;

/** A webhook signature that does not verify; the message says why, never the secret. */
public final class WebhookSignatureException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    WebhookSignatureException(String message) {
        super(message);
    }
}
