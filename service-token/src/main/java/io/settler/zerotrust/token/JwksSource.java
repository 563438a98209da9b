package io.settler.zerotrust.token;

import io.settler.zerotrust.audit.AuditEvent;
import io.settler.zerotrust.audit.AuditLog;
import io.settler.zerotrust.audit.LogSafe;
import io.settler.zerotrust.identity.ServiceIdentity;
import io.settler.zerotrust.time.Durations;
import io.settler.zerotrust.tls.MtlsContext;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * Verification keys fetched as a JWKS and refreshed when a token names an unknown {@code kid}
 * (a peer rotated its key) or the keys are older than {@link Builder#maxAge}. Fetches run in the
 * background ({@link Builder#executor}), one at a time and at most one per {@link Builder#cooldown},
 * so an attacker spraying random kids cannot cause a fetch storm; a failed fetch keeps the last
 * good keys.
 *
 * <p>No lookup ever fetches on the caller's thread. {@link #heldKey} (what an event loop uses, e.g.
 * {@code ServiceTokenAuthHandler} through {@link ServiceTokens#verifyWithoutWaiting}) answers from
 * the keys held now and never waits. {@link #key} also starts a fetch for a kid it does not hold,
 * then waits for that fetch at most {@link Builder#awaitFetch} (default 5 s), so a worker thread
 * verifying a queue message signed with a just-rotated key still accepts it. Keys older than
 * {@code maxAge} keep being used while their refetch runs in the background.
 *
 * <pre>{@code
 * JwksSource apiKeys = JwksSource.builder(JwksSource.https(URI.create("https://api.internal:8443/jwks"), client))
 *         .pinnedTo("spiffe://example.org/api")
 *         .build();
 * apiKeys.refresh();                                   // at start-up: fetch once, fail loudly
 * ServiceTokens proxy = ServiceTokens.builder().identity(...).verificationKeys(apiKeys)
 *         .trustIssuers("spiffe://example.org/api").build();
 * }</pre>
 *
 * <p>Thread-safe.
 */
public final class JwksSource implements KeySource {

    private static final int MAX_JWKS_BYTES = 256 * 1024;
    private static final Duration HTTPS_TIMEOUT = Duration.ofSeconds(5);
    private static final Duration HTTPS_DEADLINE = Duration.ofSeconds(10);

    /** The keys of the last good fetch and when that fetch started. */
    private record Held(KeySet keys, long fetchedAt) {
    }

    private final Supplier<String> fetch;
    private final ServiceIdentity[] issuers;
    private final long cooldownMillis;
    private final long maxAgeMillis;
    private final long awaitFetchMillis;
    private final Executor executor;
    private final Clock clock;
    private final AuditLog audit;
    private final AtomicLong nextFetch = new AtomicLong(Long.MIN_VALUE);
    /** The fetch under way, if any: at most one at a time. */
    private final AtomicReference<CompletableFuture<Void>> inFlight = new AtomicReference<>();
    private volatile @Nullable Held held;

    private JwksSource(Builder builder) {
        this.fetch = builder.fetch;
        this.issuers = builder.issuers;
        this.cooldownMillis = Durations.toMillisRoundedUp(builder.cooldown);
        this.maxAgeMillis = Durations.toMillisRoundedUp(builder.maxAge);
        this.awaitFetchMillis = Durations.toMillisRoundedUp(builder.awaitFetch);
        this.executor = builder.executor;
        this.clock = builder.clock;
        this.audit = builder.audit;
    }

    /** Starts a source that reads the JWKS text from {@code fetch} (e.g. {@link #https}). */
    public static Builder builder(Supplier<String> fetch) {
        return new Builder(fetch);
    }

    /**
     * Fetches a JWKS over HTTPS with this mTLS client context (TLS 1.3, our peer verification): a
     * 5-second connect and response timeout, a 10-second deadline for the whole exchange, and a
     * 256 KiB limit. Reading stops at the limit: the first byte beyond it closes the connection,
     * so an endless or oversized body costs at most the limit (plus what the network buffered).
     */
    public static Supplier<String> https(URI uri, MtlsContext client) {
        Objects.requireNonNull(uri, "uri");
        Objects.requireNonNull(client, "client");
        if (!"https".equals(uri.getScheme())) {
            throw new ServiceTokenException(ServiceTokenException.Reason.INVALID_SETTING, "a JWKS is fetched over"
                    + " https only; got the scheme " + uri.getScheme());
        }
        HttpClient http = HttpClient.newBuilder().sslContext(client.sslContext()).sslParameters(client.sslParameters())
                .connectTimeout(HTTPS_TIMEOUT).followRedirects(HttpClient.Redirect.NEVER).build();
        HttpRequest request = HttpRequest.newBuilder(uri).timeout(HTTPS_TIMEOUT).GET().build();
        return () -> fetchHttps(http, request, MAX_JWKS_BYTES, HTTPS_DEADLINE);
    }

    /** One GET, its body read by a {@link CappedBody}, all of it within {@code deadline}. */
    static String fetchHttps(HttpClient http, HttpRequest request, int maxBytes, Duration deadline) {
        URI uri = request.uri();
        CappedBody body = new CappedBody(maxBytes);
        AtomicInteger status = new AtomicInteger();
        CompletableFuture<HttpResponse<byte[]>> response = http.sendAsync(request, info -> {
            status.set(info.statusCode());
            return body;
        });
        try {
            byte[] bytes = response.get(Durations.toMillisRoundedUp(deadline), TimeUnit.MILLISECONDS).body();
            if (status.get() != 200) {
                throw failed("the JWKS at " + uri + " answered HTTP " + status.get(), null);
            }
            return new String(bytes, StandardCharsets.UTF_8);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof CappedBody.TooLarge) {
                String answered = status.get() == 200 ? "" : " (HTTP " + status.get() + ")";
                throw failed("the JWKS at " + uri + " is larger than " + maxBytes + " bytes" + answered
                        + "; stopped reading there", null);
            }
            throw failed("cannot fetch the JWKS at " + uri + ": " + cause, cause);
        } catch (TimeoutException e) {
            throw failed("the JWKS at " + uri + " was not fetched within " + deadline + "; gave up", null);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw failed("interrupted while fetching the JWKS at " + uri, e);
        } finally {
            body.cancel(); // nothing more is read; a no-op once the body is complete
            response.cancel(true);
        }
    }

    private static ServiceTokenException failed(String message, @Nullable Throwable cause) {
        return new ServiceTokenException(ServiceTokenException.Reason.KEY_SOURCE_FAILED, message, cause);
    }

    /**
     * The key with this id. A kid that is not held starts a background fetch (unless one ran within
     * the cooldown) and waits for the fetch under way at most {@link Builder#awaitFetch}; use
     * {@link #heldKey} on threads that must never wait.
     */
    @Override
    public Optional<TokenKey> key(String kid) {
        Optional<TokenKey> key = heldKey(kid);
        if (key.isPresent()) {
            return key;
        }
        CompletableFuture<Void> running = inFlight.get();
        if (running != null) {
            try {
                running.get(awaitFetchMillis, TimeUnit.MILLISECONDS);
            } catch (ExecutionException | TimeoutException e) {
                // a failed or slow fetch: answer from the keys held (the failure was audited)
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        return lookup(kid);
    }

    /**
     * The key with this id if it is held now; never waits. A miss, or keys older than
     * {@link Builder#maxAge}, start a background fetch (unless one ran within the cooldown).
     */
    @Override
    public Optional<TokenKey> heldKey(String kid) {
        Held current = held;
        Optional<TokenKey> key = current == null ? Optional.empty() : current.keys().key(kid);
        if (current == null || key.isEmpty() || clock.millis() - current.fetchedAt() >= maxAgeMillis) {
            fetchInBackground();
            if (key.isEmpty()) {
                key = lookup(kid); // an executor that runs inline has fetched already
            }
        }
        return key;
    }

    /** Whether a fetch is under way. */
    @Override
    public boolean fetching() {
        return inFlight.get() != null;
    }

    /**
     * Fetches now on this thread, unless a fetch ran within the cooldown; if one is under way, waits
     * for it. E.g. at start-up, so the first tokens find the keys.
     *
     * @throws ServiceTokenException if this fetch fails (the last good keys stay in use)
     */
    public void refresh() {
        CompletableFuture<Void> fetch = claimFetch();
        if (fetch != null) {
            runFetch(fetch);
        } else {
            fetch = inFlight.get();
            if (fetch == null) {
                return; // the cooldown holds
            }
        }
        try {
            fetch.join();
        } catch (CompletionException e) {
            throw e.getCause() instanceof ServiceTokenException cause ? cause
                    : failed("cannot fetch the JWKS: " + e.getCause(), e.getCause());
        }
    }

    /** The keys of the last good fetch, if any. */
    public Optional<KeySet> keys() {
        Held current = held;
        return current == null ? Optional.empty() : Optional.of(current.keys());
    }

    private Optional<TokenKey> lookup(String kid) {
        Held current = held;
        return current == null ? Optional.empty() : current.keys().key(kid);
    }

    private void fetchInBackground() {
        CompletableFuture<Void> fetch = claimFetch();
        if (fetch == null) {
            return;
        }
        try {
            executor.execute(() -> runFetch(fetch));
        } catch (RuntimeException e) { // e.g. RejectedExecutionException: no fetch this time
            finishFetch(fetch, failed("the JWKS fetch could not be started: " + e, e));
        }
    }

    /** The new fetch if none is under way and the cooldown allows one; {@code null} otherwise. */
    private @Nullable CompletableFuture<Void> claimFetch() {
        if (inFlight.get() != null) {
            return null;
        }
        long now = clock.millis();
        long due = nextFetch.get();
        if (now < due || !nextFetch.compareAndSet(due, now + cooldownMillis)) {
            return null;
        }
        CompletableFuture<Void> fetch = new CompletableFuture<>();
        return inFlight.compareAndSet(null, fetch) ? fetch : null;
    }

    private void runFetch(CompletableFuture<Void> fetch) {
        try {
            long startedAt = clock.millis();
            KeySet keys = KeySet.fromJwks(Objects.requireNonNull(this.fetch.get(), "the JWKS fetch returned null"));
            held = new Held(issuers.length == 0 ? keys : keys.pinnedTo(issuers), startedAt);
            audit.record(AuditEvent.builder(clock.instant(), "token.keys_refreshed", AuditEvent.Outcome.INFO)
                    .field("kids", keys.keys().stream().map(TokenKey::kid).toList()).build());
        } catch (RuntimeException e) {
            finishFetch(fetch, e);
            return;
        } catch (Error e) {
            finishFetch(fetch, failed("the JWKS fetch failed: " + e, e)); // free the slot, then let it propagate
            throw e;
        }
        finishFetch(fetch, null);
    }

    private void finishFetch(CompletableFuture<Void> fetch, @Nullable RuntimeException failure) {
        if (failure != null) {
            audit.record(AuditEvent.builder(clock.instant(), "token.keys_refresh_failed", AuditEvent.Outcome.WARNING)
                    .field("detail", LogSafe.text(String.valueOf(failure.getMessage())))
                    .field("keeping", held == null ? "none" : "last good keys").build());
        }
        inFlight.compareAndSet(fetch, null); // free the slot first, so waiters see a settled state
        if (failure == null) {
            fetch.complete(null);
        } else {
            fetch.completeExceptionally(failure);
        }
    }

    /** Configures a {@link JwksSource}. Not thread-safe. */
    public static final class Builder {
        private final Supplier<String> fetch;
        private ServiceIdentity[] issuers = new ServiceIdentity[0];
        private Duration cooldown = Duration.ofSeconds(30);
        private Duration maxAge = Duration.ofMinutes(15);
        private Duration awaitFetch = Duration.ofSeconds(5);
        private Executor executor = Builder::fetchThread;
        private Clock clock = Clock.systemUTC();
        private AuditLog audit = AuditLog.slf4j();

        private Builder(Supplier<String> fetch) {
            this.fetch = Objects.requireNonNull(fetch, "fetch");
        }

        /**
         * Pins every fetched key to these issuers (normally the one service that publishes the JWKS).
         *
         * @param issuers the services the fetched keys speak for
         * @return this builder
         * @throws ServiceTokenException {@code INVALID_SETTING} if {@code issuers} is empty, which would
         *         otherwise leave the keys unpinned
         */
        public Builder pinnedTo(ServiceIdentity... issuers) {
            if (issuers.length == 0) {
                throw new ServiceTokenException(ServiceTokenException.Reason.INVALID_SETTING,
                        "pin the JWKS keys to at least one issuer; an empty list would leave them unpinned");
            }
            for (ServiceIdentity issuer : issuers) {
                Objects.requireNonNull(issuer, "issuer");
            }
            this.issuers = issuers.clone();
            return this;
        }

        /**
         * {@link #pinnedTo(ServiceIdentity...)} for SPIFFE IDs given as text, parsed first.
         *
         * @param issuers SPIFFE IDs, e.g. {@code spiffe://example.org/api}
         * @return this builder
         * @throws ServiceTokenException {@code INVALID_SETTING} if {@code issuers} is empty
         * @throws io.settler.zerotrust.identity.InvalidServiceIdentityException if one is not a valid
         *         SPIFFE ID
         */
        public Builder pinnedTo(String... issuers) {
            return pinnedTo(TokenKey.parseIssuers(issuers));
        }

        /**
         * The least time between two fetches (default 30 s; positive, so tokens with unknown kids
         * cannot make this source fetch without pause; rounded up to whole milliseconds).
         */
        public Builder cooldown(Duration cooldown) {
            this.cooldown = TokenDurations.positive(ServiceTokenException.Reason.INVALID_SETTING, "cooldown", cooldown);
            return this;
        }

        /**
         * Refetch keys older than this on the next lookup (default 15 min; positive, rounded up to
         * whole milliseconds), so removed keys go away.
         */
        public Builder maxAge(Duration maxAge) {
            this.maxAge = TokenDurations.positive(ServiceTokenException.Reason.INVALID_SETTING, "maxAge", maxAge);
            return this;
        }

        /**
         * How long {@link JwksSource#key} waits for the fetch a kid it does not hold started
         * (default 5 s; zero: never; rounded up to whole milliseconds). {@link JwksSource#heldKey} never
         * waits.
         */
        public Builder awaitFetch(Duration wait) {
            Objects.requireNonNull(wait, "awaitFetch");
            this.awaitFetch = wait.isZero() ? wait
                    : TokenDurations.positive(ServiceTokenException.Reason.INVALID_SETTING, "awaitFetch", wait);
            return this;
        }

        /**
         * Where background fetches run (default: a new daemon thread per fetch; there is at most one
         * fetch at a time, at most one per cooldown). {@link JwksSource#refresh} fetches on its caller.
         */
        public Builder executor(Executor executor) {
            this.executor = Objects.requireNonNull(executor, "executor");
            return this;
        }

        private static void fetchThread(Runnable fetch) {
            Thread thread = new Thread(fetch, "zerotrust-jwks-fetch");
            thread.setDaemon(true);
            thread.start();
        }

        /** The clock for cooldown and age (default: the system UTC clock). */
        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /** Where refreshes and failures go (default {@link AuditLog#slf4j()}). */
        public Builder auditLog(AuditLog audit) {
            this.audit = Objects.requireNonNull(audit, "audit");
            return this;
        }

        /** The source; it fetches on first use (in the background), or when {@link JwksSource#refresh()} is called. */
        public JwksSource build() {
            return new JwksSource(this);
        }
    }
}
