package io.settler.zerotrust.token;

import io.settler.zerotrust.audit.AuditEvent;
import io.settler.zerotrust.audit.AuditLog;
import io.settler.zerotrust.tls.MtlsContext;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * Verification keys fetched as a JWKS and refreshed when a token names an unknown {@code kid}
 * (a peer rotated its key) or the keys are older than {@link Builder#maxAge}. Fetches are
 * single-flight and at most one per {@link Builder#cooldown}, so an attacker spraying random kids
 * cannot cause a fetch storm; a failed fetch keeps the last good keys.
 *
 * <pre>{@code
 * JwksSource apiKeys = JwksSource.builder(JwksSource.https(URI.create("https://api.internal:8443/jwks"), client))
 *         .pinnedTo("spiffe://example.org/api")
 *         .build();
 * ServiceTokens proxy = ServiceTokens.builder().identity(...).verificationKeys(apiKeys)
 *         .trustIssuers("spiffe://example.org/api").build();
 * }</pre>
 *
 * <p>Thread-safe.
 */
public final class JwksSource implements KeySource {

    private static final int MAX_JWKS_BYTES = 256 * 1024;

    private final Supplier<String> fetch;
    private final String[] issuers;
    private final long cooldownMillis;
    private final long maxAgeMillis;
    private final Clock clock;
    private final AuditLog audit;
    private final Object lock = new Object();
    private volatile KeySet current;
    private volatile long fetchedAt;
    private volatile long nextFetch = Long.MIN_VALUE;
    private volatile boolean fetching;

    private JwksSource(Builder builder) {
        this.fetch = builder.fetch;
        this.issuers = builder.issuers;
        this.cooldownMillis = builder.cooldown.toMillis();
        this.maxAgeMillis = builder.maxAge.toMillis();
        this.clock = builder.clock;
        this.audit = builder.audit;
    }

    /** Starts a source that reads the JWKS text from {@code fetch} (e.g. {@link #https}). */
    public static Builder builder(Supplier<String> fetch) {
        return new Builder(fetch);
    }

    /**
     * Fetches a JWKS over HTTPS with this mTLS client context (TLS 1.3, our peer verification),
     * a 5-second timeout and a 256 KiB limit.
     */
    public static Supplier<String> https(URI uri, MtlsContext client) {
        Objects.requireNonNull(uri, "uri");
        Objects.requireNonNull(client, "client");
        if (!"https".equals(uri.getScheme())) {
            throw new ServiceTokenException(ServiceTokenException.Reason.INVALID_SETTING, "a JWKS is fetched over"
                    + " https only; got the scheme " + uri.getScheme());
        }
        HttpClient http = HttpClient.newBuilder().sslContext(client.sslContext()).sslParameters(client.sslParameters())
                .connectTimeout(Duration.ofSeconds(5)).followRedirects(HttpClient.Redirect.NEVER).build();
        HttpRequest request = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(5)).GET().build();
        return () -> {
            try {
                HttpResponse<byte[]> response = http.send(request, HttpResponse.BodyHandlers.ofByteArray());
                if (response.statusCode() != 200) {
                    throw new ServiceTokenException(ServiceTokenException.Reason.KEY_SOURCE_FAILED, "the JWKS at "
                            + uri + " answered HTTP " + response.statusCode());
                }
                if (response.body().length > MAX_JWKS_BYTES) {
                    throw new ServiceTokenException(ServiceTokenException.Reason.KEY_SOURCE_FAILED, "the JWKS at "
                            + uri + " is larger than " + MAX_JWKS_BYTES + " bytes");
                }
                return new String(response.body(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new ServiceTokenException(ServiceTokenException.Reason.KEY_SOURCE_FAILED, "cannot fetch the"
                        + " JWKS at " + uri + ": " + e.getMessage(), e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new ServiceTokenException(ServiceTokenException.Reason.KEY_SOURCE_FAILED, "interrupted while"
                        + " fetching the JWKS at " + uri, e);
            }
        };
    }

    @Override
    public Optional<TokenKey> key(String kid) {
        KeySet keys = current;
        Optional<TokenKey> key = keys == null ? Optional.empty() : keys.key(kid);
        long now = clock.millis();
        if (key.isPresent() && now - fetchedAt < maxAgeMillis) {
            return key;
        }
        if (now >= nextFetch || fetching) {
            refresh(false);
        }
        keys = current;
        return keys == null ? Optional.empty() : keys.key(kid);
    }

    /**
     * Fetches now, unless a fetch just happened (within the cooldown); e.g. at start-up.
     *
     * @throws ServiceTokenException if this fetch fails (the last good keys stay in use)
     */
    public void refresh() {
        refresh(true);
    }

    /** The keys of the last good fetch, if any. */
    public Optional<KeySet> keys() {
        return Optional.ofNullable(current);
    }

    private void refresh(boolean rethrow) {
        synchronized (lock) {
            long now = clock.millis();
            if (now < nextFetch) {
                return; // another thread fetched while this one waited, or the cooldown holds
            }
            nextFetch = now + cooldownMillis;
            fetching = true;
            try {
                KeySet keys = KeySet.fromJwks(Objects.requireNonNull(fetch.get(), "the JWKS fetch returned null"));
                current = issuers.length == 0 ? keys : keys.pinnedTo(issuers);
                fetchedAt = now;
                audit.record(AuditEvent.builder(clock.instant(), "token.keys_refreshed", AuditEvent.Outcome.INFO)
                        .field("kids", current.keys().stream().map(TokenKey::kid).toList()).build());
            } catch (RuntimeException e) {
                audit.record(AuditEvent.builder(clock.instant(), "token.keys_refresh_failed", AuditEvent.Outcome.WARNING)
                        .field("detail", e.getMessage()).field("keeping", current == null ? "none" : "last good keys")
                        .build());
                if (rethrow) {
                    throw e instanceof ServiceTokenException ? (ServiceTokenException) e
                            : new ServiceTokenException(ServiceTokenException.Reason.KEY_SOURCE_FAILED,
                                    "cannot fetch the JWKS: " + e.getMessage(), e);
                }
            } finally {
                fetching = false;
            }
        }
    }

    /** Configures a {@link JwksSource}. Not thread-safe. */
    public static final class Builder {
        private final Supplier<String> fetch;
        private String[] issuers = new String[0];
        private Duration cooldown = Duration.ofSeconds(30);
        private Duration maxAge = Duration.ofMinutes(15);
        private Clock clock = Clock.systemUTC();
        private AuditLog audit = AuditLog.slf4j();

        private Builder(Supplier<String> fetch) {
            this.fetch = Objects.requireNonNull(fetch, "fetch");
        }

        /** Pins every fetched key to these issuers (normally the one service that publishes the JWKS). */
        public Builder pinnedTo(String... issuers) {
            this.issuers = issuers.clone();
            return this;
        }

        /** The least time between two fetches (default 30 s). */
        public Builder cooldown(Duration cooldown) {
            if (cooldown == null || cooldown.isNegative()) {
                throw new ServiceTokenException(ServiceTokenException.Reason.INVALID_SETTING,
                        "the cooldown must be zero or positive");
            }
            this.cooldown = cooldown;
            return this;
        }

        /** Refetch keys older than this on the next lookup (default 15 min), so removed keys go away. */
        public Builder maxAge(Duration maxAge) {
            if (maxAge == null || maxAge.isNegative() || maxAge.isZero()) {
                throw new ServiceTokenException(ServiceTokenException.Reason.INVALID_SETTING,
                        "the maximum key age must be positive");
            }
            this.maxAge = maxAge;
            return this;
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

        /** The source; it fetches on first use, or when {@link #refresh()} is called. */
        public JwksSource build() {
            return new JwksSource(this);
        }
    }
}
