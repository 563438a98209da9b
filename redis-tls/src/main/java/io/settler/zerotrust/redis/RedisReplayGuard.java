package io.settler.zerotrust.redis;

import io.lettuce.core.KeyValue;
import io.lettuce.core.LettuceFutures;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.SetArgs;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisStringAsyncCommands;
import io.lettuce.core.api.sync.RedisStringCommands;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import io.settler.zerotrust.audit.AuditLog;
import io.settler.zerotrust.audit.LogSafe;
import io.settler.zerotrust.token.ReplayGuard;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.jspecify.annotations.Nullable;

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
 * handled; the ACL user then needs {@code +mget} there too, and {@code +getdel} for {@link #release}.
 *
 * <p>{@link #pipeline()} sends several of these checks and records without waiting for each reply, so a
 * batch of them costs one round trip: e.g. a queue consumer's replay checks and claims for a whole batch
 * of messages. Each answers on its own, as the single call would.
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
    /** The same connection's asynchronous commands, for {@link #pipeline()}; null if built on synchronous ones. */
    private final @Nullable RedisStringAsyncCommands<String, String> async;
    /** The connection's command timeout, for replies awaited by a {@link Pipeline}. */
    private final Duration timeout;
    private final KeyNamespace namespace;
    private final Clock clock;
    private final AuditLog audit;

    private RedisReplayGuard(Builder builder) {
        this.redis = builder.redis;
        this.async = builder.async;
        this.timeout = builder.timeout;
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
        return new Builder(redis, null, Duration.ZERO, namespace);
    }

    /**
     * Starts a guard on a connection whose commands it may also send without waiting for each reply
     * ({@link #pipeline()}: one round trip for a batch of checks), each reply awaited at most the
     * connection's command timeout.
     *
     * @param connection e.g. a {@link HardenedRedis} connection
     * @param namespace the service's keys; the guard uses {@code replay:*} below it
     */
    public static Builder builder(StatefulRedisConnection<String, String> connection, KeyNamespace namespace) {
        return new Builder(connection.sync(), connection.async(), connection.getTimeout(), namespace);
    }

    /**
     * The same on a Redis Cluster connection ({@link HardenedRedisCluster}); the namespace should be
     * {@link KeyNamespace#clustered}, so a pipeline's keys share one slot.
     */
    public static Builder builder(StatefulRedisClusterConnection<String, String> connection,
                                  KeyNamespace namespace) {
        return new Builder(connection.sync(), connection.async(), connection.getTimeout(), namespace);
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
        return useCommand(issuer, jti, expiresAt, holder, sameHolderPasses).run(redis);
    }

    /** The replay check of a holder as a command: answered false at once for an unusable token. */
    private Command useCommand(String issuer, String jti, Instant expiresAt, String holder, boolean sameHolderPasses) {
        Objects.requireNonNull(holder, "holder");
        if (holder.isEmpty()) {
            throw new IllegalArgumentException("a holder names what carries the token; got an empty one");
        }
        if (!usable(issuer, jti, expiresAt)) {
            return Command.ANSWERED_FALSE;
        }
        // Prefixed, so no holder reads as the "1" that firstUse(issuer, jti, expiresAt) records.
        String record = HOLDER + holder;
        return new Command(key(issuer, jti), record, SetArgs.Builder.nx().pxAt(expiresAt.toEpochMilli()), true,
                previous -> previous == null || (sameHolderPasses && previous.equals(record))
                        || refuse("REPLAYED", issuer, jti));
    }

    /**
     * Records that {@code holder} is done (for a queue: a consumer group handled or dead-lettered a
     * stream entry), until {@code until}: {@code SET <namespace>done:<hex SHA-256 of holder> 1 PXAT}.
     * Nothing is written when {@code until} has passed.
     *
     * @throws io.lettuce.core.RedisException if Redis cannot be reached
     */
    public void recordDone(String holder, Instant until) {
        recordDoneCommand(holder, until).run(redis);
    }

    private Command recordDoneCommand(String holder, Instant until) {
        Objects.requireNonNull(until, "until");
        if (!until.isAfter(clock.instant())) {
            return Command.ANSWERED_TRUE;
        }
        return new Command(recordKey("done", holder), "1", SetArgs.Builder.pxAt(until.toEpochMilli()), false,
                reply -> true);
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
     * find the same work, one does it. A claim that is not {@link #release released} lapses at {@code until}:
     * it is a lease, so work whose taker died is free again then.
     *
     * @return whether the caller took it
     * @throws io.lettuce.core.RedisException if Redis cannot be reached
     */
    public boolean claim(String holder, Instant until) {
        return claimCommand(holder, until).run(redis);
    }

    private Command claimCommand(String holder, Instant until) {
        Objects.requireNonNull(until, "until");
        return new Command(recordKey("claim", holder), "1", SetArgs.Builder.nx().pxAt(until.toEpochMilli()), false,
                "OK"::equals);
    }

    /**
     * Gives up a {@link #claim} before it lapses ({@code GETDEL <namespace>claim:<hex SHA-256 of holder>}),
     * so the work can be taken again at once (for a queue: a message whose handler failed, delivered
     * again). Only the taker of the claim may call it: the claim records no owner.
     *
     * @return whether there was a claim to give up
     * @throws io.lettuce.core.RedisException if Redis cannot be reached
     */
    public boolean release(String holder) {
        return releaseCommand(holder).run(redis);
    }

    private Command releaseCommand(String holder) {
        return new Command(recordKey("claim", holder), null, null, true, Objects::nonNull);
    }

    /**
     * Starts a pipeline on the guard's connection: each check or record added is sent at once, without
     * waiting for the reply of the one before, and {@link Reply#get()} waits for its own reply (at most
     * the connection's command timeout). So a batch of them costs one round trip instead of one each,
     * and each is answered, refused (audited) or failed on its own, exactly as the single call would
     * be. A guard built on synchronous commands ({@link #builder(RedisStringCommands, KeyNamespace)})
     * runs each as it is added, one round trip each: build it on the connection to pipeline.
     * Not thread-safe: one thread per pipeline.
     */
    public Pipeline pipeline() {
        return new Pipeline();
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
        audit.event(RedisAudit.REPLAY_REFUSED)
                .field("reason", reason)
                .field("issuer", LogSafe.text(issuer))
                .field("jti", LogSafe.text(jti))
                .record();
        return false;
    }

    @Override
    public String toString() {
        return "RedisReplayGuard[" + namespace.prefix() + "replay:*]";
    }

    /**
     * Checks and records sent without waiting for each reply (see {@link #pipeline()}); each method
     * does what the guard's method of the same name does and answers through a {@link Reply}.
     */
    public final class Pipeline {

        private Pipeline() {
        }

        /** {@link RedisReplayGuard#usedOnlyBy}, answered by the reply. */
        public Reply usedOnlyBy(String issuer, String jti, Instant expiresAt, String holder) {
            return send(useCommand(issuer, jti, expiresAt, holder, true));
        }

        /** {@link RedisReplayGuard#claim}, answered by the reply. */
        public Reply claim(String holder, Instant until) {
            return send(claimCommand(holder, until));
        }

        /** {@link RedisReplayGuard#release}, answered by the reply. */
        public Reply release(String holder) {
            return send(releaseCommand(holder));
        }

        /** {@link RedisReplayGuard#recordDone}; the reply answers true once the record is written (or needs none). */
        public Reply recordDone(String holder, Instant until) {
            return send(recordDoneCommand(holder, until));
        }

        private Reply send(Command command) {
            RedisStringAsyncCommands<String, String> commands = async;
            if (command.key() == null) {
                return new Reply(command, null, null, null);
            }
            try {
                return commands == null ? new Reply(command, null, command.call(redis), null)
                        : new Reply(command, command.send(commands), null, null);
            } catch (RuntimeException e) {
                return new Reply(command, null, null, e);
            }
        }
    }

    /**
     * The answer to one command of a {@link Pipeline}: {@link #get()} waits for it. Not thread-safe.
     */
    public final class Reply {
        private final Command command;
        private @Nullable RedisFuture<String> future;
        private @Nullable String value;
        private @Nullable RuntimeException failure;
        private @Nullable Boolean answer;

        private Reply(Command command, @Nullable RedisFuture<String> future, @Nullable String value,
                      @Nullable RuntimeException failure) {
            this.command = command;
            this.future = future;
            this.value = value;
            this.failure = failure;
        }

        /**
         * The answer, as the guard's method of the same name gives it (a refusal is audited once, when
         * first read), waiting for the reply at most the connection's command timeout.
         *
         * @throws io.lettuce.core.RedisException if Redis failed this command, or did not answer in time:
         *     the other commands of the pipeline are answered on their own
         */
        public boolean get() {
            Boolean known = answer;
            if (known != null) {
                return known;
            }
            RedisFuture<String> pending = future;
            if (pending != null) {
                future = null;
                try {
                    value = LettuceFutures.awaitOrCancel(pending, timeout.toNanos(), TimeUnit.NANOSECONDS);
                } catch (RuntimeException e) {
                    failure = e;
                }
            }
            RuntimeException failed = failure;
            if (failed != null) {
                throw failed;
            }
            boolean result = command.answer().test(value);
            answer = result;
            return result;
        }
    }

    /**
     * One command of the guard: a {@code SET key value args} (with {@code GET} if {@code get}), or
     * {@code GETDEL key} when there is no value; {@code answer} reads its reply. A command without a
     * key is answered at once, without Redis.
     */
    private record Command(@Nullable String key, @Nullable String value, @Nullable SetArgs args, boolean get,
                           Predicate<@Nullable String> answer) {

        static final Command ANSWERED_TRUE = new Command(null, null, null, false, reply -> true);
        static final Command ANSWERED_FALSE = new Command(null, null, null, false, reply -> false);

        boolean run(RedisStringCommands<String, String> redis) {
            return answer.test(key == null ? null : call(redis));
        }

        @Nullable String call(RedisStringCommands<String, String> redis) {
            String k = Objects.requireNonNull(key, "a command to send has a key");
            if (value == null) {
                return redis.getdel(k);
            }
            SetArgs setArgs = Objects.requireNonNull(args, "a SET has arguments");
            return get ? redis.setGet(k, value, setArgs) : redis.set(k, value, setArgs);
        }

        RedisFuture<String> send(RedisStringAsyncCommands<String, String> redis) {
            String k = Objects.requireNonNull(key, "a command to send has a key");
            if (value == null) {
                return redis.getdel(k);
            }
            SetArgs setArgs = Objects.requireNonNull(args, "a SET has arguments");
            return get ? redis.setGet(k, value, setArgs) : redis.set(k, value, setArgs);
        }
    }

    /** Builds a {@link RedisReplayGuard}. */
    public static final class Builder {
        private final RedisStringCommands<String, String> redis;
        private final @Nullable RedisStringAsyncCommands<String, String> async;
        private final Duration timeout;
        private final KeyNamespace namespace;
        private Clock clock = Clock.systemUTC();
        private AuditLog audit = AuditLog.slf4j();

        private Builder(RedisStringCommands<String, String> redis,
                        @Nullable RedisStringAsyncCommands<String, String> async, Duration timeout,
                        KeyNamespace namespace) {
            this.redis = Objects.requireNonNull(redis, "redis");
            this.async = async;
            this.timeout = Objects.requireNonNull(timeout, "timeout");
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
