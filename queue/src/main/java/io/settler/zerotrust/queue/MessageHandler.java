package io.settler.zerotrust.queue;

/**
 * Application code that runs a verified message. Make it idempotent by {@link VerifiedMessage#jti()}:
 * delivery is at-least-once, so after a crash between handling and acknowledging, the same
 * message comes again. Throwing leaves the message unacknowledged, to be retried.
 */
@FunctionalInterface
public interface MessageHandler {

    /** Runs the message; return normally to have it acknowledged. */
    void handle(VerifiedMessage message) throws Exception;
}
