package io.settler.zerotrust.token;

import java.io.ByteArrayOutputStream;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Flow;
import org.jspecify.annotations.Nullable;

/**
 * A response body read up to a limit and no further: at the first byte beyond it the subscription
 * is cancelled (the JDK client then closes the connection) and the body fails with
 * {@link TooLarge}. {@code BodyHandlers.ofByteArray()} would read an endless body until memory ran
 * out before any size check could run. One per response.
 */
final class CappedBody implements HttpResponse.BodySubscriber<byte[]> {

    /** The body went past the limit; it was not read further. */
    static final class TooLarge extends RuntimeException {
        private static final long serialVersionUID = 1L;

        TooLarge(int limit) {
            super("the body is larger than " + limit + " bytes", null, false, false);
        }
    }

    private final int limit;
    private final CompletableFuture<byte[]> body = new CompletableFuture<>();
    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    private volatile Flow.@Nullable Subscription subscription;
    private long received;

    CappedBody(int limit) {
        if (limit < 0) {
            throw new IllegalArgumentException("limit must be 0 or more; got " + limit);
        }
        this.limit = limit;
    }

    @Override
    public void onSubscribe(Flow.Subscription subscription) {
        this.subscription = subscription;
        if (body.isDone()) {
            subscription.cancel(); // cancelled before the body started
        } else {
            subscription.request(Long.MAX_VALUE);
        }
    }

    @Override
    public void onNext(List<ByteBuffer> buffers) {
        if (body.isDone()) {
            return;
        }
        for (ByteBuffer buffer : buffers) {
            received += buffer.remaining();
            if (received > limit) {
                Flow.Subscription current = subscription; // set by onSubscribe, which comes first
                if (current != null) {
                    current.cancel();
                }
                body.completeExceptionally(new TooLarge(limit));
                return;
            }
            byte[] chunk = new byte[buffer.remaining()];
            buffer.get(chunk);
            bytes.write(chunk, 0, chunk.length);
        }
    }

    @Override
    public void onError(Throwable failure) {
        body.completeExceptionally(failure);
    }

    @Override
    public void onComplete() {
        body.complete(bytes.toByteArray());
    }

    @Override
    public CompletionStage<byte[]> getBody() {
        return body;
    }

    /** Stops reading (e.g. at a deadline); a no-op once the body is complete. */
    void cancel() {
        if (body.completeExceptionally(new IllegalStateException("the body was not read to its end"))) {
            Flow.Subscription current = subscription;
            if (current != null) {
                current.cancel();
            }
        }
    }
}
