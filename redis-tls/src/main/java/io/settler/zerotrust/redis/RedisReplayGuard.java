package io.settler.zerotrust.redis;

import io.lettuce.core.KeyValue;
import io.lettuce.core.SetArgs;
import io.lettuce.core.api.sync.RedisStringCommands;
import io.settler.zerotrust.audit.AuditEvent;
import io.settler.zerotrust.audit.AuditLog;
import io.settler.zerotrust.audit.LogSafe;
import io.settler.zerotrust.token.ReplayGuard;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;

/**
 * Remembers which tokens (issuer + {@code jti}) were used, in Redis, so a token is accepted once
 * across every instance of a service: {@code SET <key> 1 NX PXAT <expiry>}, one round trip.
 *
 * <pre>{@code
 * RedisReplayGuard guard = RedisReplayGuard.builder(connection.sync(), KeyNamespace.of("api")).build();
 * if (!guard.firstUse(token.issuer().toString(), token.jti(), token.expiresAt())) { refuse as replayed }
 * }</pre>
 *
 * <p>With a holder ({@link #firstUse(String, String, Instant, String)}, {@link #usedOnlyBy}), the
 * record names what used the token, so a redelivery of that same thing can be told from a copy.
 *
 * <p>{@link #recordDone}/{@link #done} and {@link #claim} keep records of other things under the
 * same namespace ({@code done:*}, {@code claim:*}), e.g. which queue entries a consumer group has
 * handled; the ACL user then needs {@code +mget} there too.
 *
 * <p>The key is {@code <namespace>replay:<hex SHA-256 of issuer and jti>}: fixed length, and no
 * issuer or jti (with {@code :}, <code>&#123;</code> or anything else in it) can collide with another pair
 * or pick the cluster slot. It expires with the token, so memory is bounded by the tokens still
 * valid. The ACL user needs {@code +set} on {@code <namespace>replay:*}, with read access too for the
 * {@code holder} variants (their {@code SET ... GET} reads the record). Works with a standalone
 * or a cluster connection's sync commands. Thread-safe when the connection is.
 */
public final class RedisReplayGuard implements ReplayGuard {

    /** Marks a record made with a holder; the plain {@link #firstUse(String, String, Instant)} records "1". */
    private static final String HOLDER = "by:";

    private final RedisStringCommands<String, String> redis;
    private final KeyNamespace namespace;
    private final Clock clock;
    private final AuditLog audit;

    private RedisReplayGuard(Builder builder) {
        this.redis = builder.redis;
        this.namespace = builder.namespace;
        this.clock = builder.clock;
        this.audit = builder.audit;
    }

    /**
     * Starts a guard on a connection.
     *
     * @param redis e.g. {@code connection.sync()} of a {@link HardenedRedis} connection
     * @param namespace the service's keys; the guard uses {@code replay:*} below it
     */
    public static Builder builder(RedisStringCommands<String, String> redis, KeyNamespace namespace) {
        return new Builder(redis, namespace);
    }

    /**
     * Records the token as used, atomically.
     *
     * @param issuer the token's issuer
     * @param jti the token's unique id
     * @param expiresAt the token's expiry; the record is kept until then
     * @return true the first time this issuer and jti are seen; false for a replay, and for a
     *     token that has already expired (it must never count as a first use)
     * @throws io.lettuce.core.RedisException if Redis cannot be reached: callers must refuse the token
     */
    @Override
    public boolean firstUse(String issuer, String jti, Instant expiresAt) {
        if (!usable(issuer, jti, expiresAt)) {
            return false;
        }
        String reply = redis.set(key(issuer, jti), "1", SetArgs.Builder.nx().pxAt(expiresAt.toEpochMilli()));
        return "OK".equals(reply) || refuse("REPLAYED", issuer, jti);
    }

    /**
     * Records the token as used by {@code holder}, the one thing that carries it (for a queue: the
     * consumer group's stream entry), atomically: {@code SET <key> <holder> NX GET PXAT <expiry>}.
     *
     * @param issuer the token's issuer
     * @param jti the token's unique id
     * @param expiresAt the token's expiry; the record is kept until then
     * @param holder what used the token, non-empty; kept in the record
     * @return true only the first time this issuer and jti are seen, whoever the holder (as
     *     {@link #firstUse(String, String, Instant)})
     * @throws io.lettuce.core.RedisException if Redis cannot be reached: callers must refuse the token
     */
    public boolean firstUse(String issuer, String jti, Instant expiresAt, String holder) {
        return use(issuer, jti, expiresAt, holder, false);
    }

    /**
     * Records the token as used by {@code holder} unless something else used it first, atomically
     * ({@code SET <key> <holder> NX GET PXAT <expiry>}): for a redelivery of the same holder, such
     * as a queue entry reclaimed after its handler failed. It passes only when this call made the
     * record, or when the record names this very holder; a copy of the token in another holder is
     * a replay, whatever was or was not checked before.
     *
     * @param issuer the token's issuer
     * @param jti the token's unique id
     * @param expiresAt the token's expiry; the record is kept until then
     * @param holder what carries the token, non-empty; kept in the record
     * @return true when no other holder used this issuer and jti; false for a replay from another
     *     holder, a token recorded by {@link #firstUse(String, String, Instant)} (no holder), and an
     *     expired token
     * @throws io.lettuce.core.RedisException if Redis cannot be reached: callers must refuse the token
     */
    public boolean usedOnlyBy(String issuer, String jti, Instant expiresAt, String holder) {
        return use(issuer, jti, expiresAt, holder, true);
    }

    private boolean use(String issuer, String jti, Instant expiresAt, String holder, boolean sameHolderPasses) {
        Objects.requireNonNull(holder, "holder");
        if (holder.isEmpty()) {
            throw new IllegalArgumentException("a holder names what carries the token; got an empty one");
        }
        if (!usable(issuer, jti, expiresAt)) {
            return false;
        }
        // Prefixed, so no holder reads as the "1" that firstUse(issuer, jti, expiresAt) records.
        String record = HOLDER + holder;
        String previous = redis.setGet(key(issuer, jti), record, SetArgs.Builder.nx().pxAt(expiresAt.toEpochMilli()));
        return previous == null || (sameHolderPasses && previous.equals(record)) || refuse("REPLAYED", issuer, jti);
    }

    /**
     * Records that {@code holder} is done (for a queue: a consumer group handled or dead-lettered a
     * stream entry), until {@code until}: {@code SET <namespace>done:<hex SHA-256 of holder> 1 PXAT}.
     * Nothing is written when {@code until} has passed.
     *
     * @throws io.lettuce.core.RedisException if Redis cannot be reached
     */
    public void recordDone(String holder, Instant until) {
        Objects.requireNonNull(until, "until");
        if (until.isAfter(clock.instant())) {
            redis.set(recordKey("done", holder), "1", SetArgs.Builder.pxAt(until.toEpochMilli()));
        }
    }

    /**
     * For each holder, in order, whether {@link #recordDone} recorded it (and the record has not
     * expired): one {@code MGET}.
     *
     * @throws io.lettuce.core.RedisException if Redis cannot be reached
     */
    public List<Boolean> done(List<String> holders) {
        if (holders.isEmpty()) {
            return List.of();
        }
        String[] keys = holders.stream().map(holder -> recordKey("done", holder)).toArray(String[]::new);
        return redis.mget(keys).stream().map(KeyValue::hasValue).toList();
    }

    /**
     * Takes {@code holder} for the caller until {@code until} unless someone else holds it, atomically
     * ({@code SET <namespace>claim:<hex SHA-256 of holder> 1 NX PXAT}): so of several workers that
     * find the same work, one does it.
     *
     * @return whether the caller took it
     * @throws io.lettuce.core.RedisException if Redis cannot be reached
     */
    public boolean claim(String holder, Instant until) {
        Objects.requireNonNull(until, "until");
        return "OK".equals(redis.set(recordKey("claim", holder), "1",
                SetArgs.Builder.nx().pxAt(until.toEpochMilli())));
    }

    private String recordKey(String kind, String holder) {
        Objects.requireNonNull(holder, "holder");
        if (holder.isEmpty()) {
            throw new IllegalArgumentException("a holder names what is recorded; got an empty one");
        }
        return namespace.key(kind, sha256(holder.getBytes(StandardCharsets.UTF_8)));
    }

    /** Whether the ids are non-empty and the token has not expired; refusals are audited. */
    private boolean usable(String issuer, String jti, Instant expiresAt) {
        Objects.requireNonNull(issuer, "issuer");
        Objects.requireNonNull(jti, "jti");
        Objects.requireNonNull(expiresAt, "expiresAt");
        if (issuer.isEmpty() || jti.isEmpty()) {
            return refuse("EMPTY_ID", issuer, jti);
        }
        return expiresAt.isAfter(clock.instant()) || refuse("EXPIRED", issuer, jti);
    }

    /** The Redis key for an issuer and jti. */
    String key(String issuer, String jti) {
        byte[] issuerBytes = issuer.getBytes(StandardCharsets.UTF_8);
        // Length-prefixed, so ("a:b", "c") and ("a", "b:c") hash differently.
        return namespace.key("replay", sha256(ByteBuffer.allocate(4).putInt(issuerBytes.length).array(), issuerBytes,
                jti.getBytes(StandardCharsets.UTF_8)));
    }

    private static String sha256(byte[]... parts) {
        try {
            MessageDigest sha256 = MessageDigest.getInstance("SHA-256");
            for (byte[] part : parts) {
                sha256.update(part);
            }
            return HexFormat.of().formatHex(sha256.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JDK", e);
        }
    }

    /** Records a {@code token.replay_refused} event; returns false, the answer to give. */
    private boolean refuse(String reason, String issuer, String jti) {
        audit.record(AuditEvent.builder(clock.instant(), "token.replay_refused", AuditEvent.Outcome.REFUSED)
                .field("reason", reason)
                .field("issuer", LogSafe.text(issuer))
                .field("jti", LogSafe.text(jti))
                .build());
        return false;
    }

    @Override
    public String toString() {
        return "RedisReplayGuard[" + namespace.prefix() + "replay:*]";
    }

    /** Builds a {@link RedisReplayGuard}. */
    public static final class Builder {
        private final RedisStringCommands<String, String> redis;
        private final KeyNamespace namespace;
        private Clock clock = Clock.systemUTC();
        private AuditLog audit = AuditLog.slf4j();

        private Builder(RedisStringCommands<String, String> redis, KeyNamespace namespace) {
            this.redis = Objects.requireNonNull(redis, "redis");
            this.namespace = Objects.requireNonNull(namespace, "namespace");
        }

        /** The clock that decides whether a token has expired (default the system clock). */
        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /** Where replays are recorded (default {@link AuditLog#slf4j()}). */
        public Builder auditLog(AuditLog audit) {
            this.audit = Objects.requireNonNull(audit, "audit");
            return this;
        }

        /** The guard. */
        public RedisReplayGuard build() {
            return new RedisReplayGuard(this);
        }
    }
}
