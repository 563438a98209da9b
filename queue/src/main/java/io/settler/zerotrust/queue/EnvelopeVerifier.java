package io.settler.zerotrust.queue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.settler.zerotrust.audit.AuditLog;
import io.settler.zerotrust.audit.LogSafe;
import io.settler.zerotrust.identity.InvalidServiceIdentityException;
import io.settler.zerotrust.identity.ServiceIdentity;
import io.settler.zerotrust.policy.Policy;
import io.settler.zerotrust.policy.ServicePolicy;
import io.settler.zerotrust.redis.RedisReplayGuard;
import io.settler.zerotrust.token.ReplayGuard;
import io.settler.zerotrust.token.ServiceTokens;
import io.settler.zerotrust.token.TokenRejectedException;
import io.settler.zerotrust.token.VerifiedToken;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Verifies envelopes of one queue before anything else sees them: the token's signature (through
 * the given {@link ServiceTokens}, whose identity must be the queue's audience), the issuer being
 * allowed to publish to the queue, the scope {@code queue:<name>:publish}, the payload digest,
 * the expiry, and that the {@code jti} was not used before. Every refusal is a
 * {@link QueueException} whose reason {@link QueueException#isRejection() is a rejection}, and a
 * {@code queue.message_rejected} audit event. Immutable and thread-safe.
 */
public final class EnvelopeVerifier {

    private final ServiceTokens tokens;
    private final String queue;
    private final String scope;
    private final Map<String, String> publishers; // SPIFFE ID -> service name
    private final ReplayGuard replayGuard;
    /** The same guard when it can bind a jti to the stream entry that carries it; else null. */
    private final @Nullable RedisReplayGuard entryGuard;
    private final AuditLog audit;

    private EnvelopeVerifier(Builder builder, ReplayGuard replayGuard) {
        this.tokens = builder.tokens;
        this.queue = builder.queue;
        this.scope = Queues.publishScope(queue);
        this.publishers = Map.copyOf(builder.publishers);
        this.replayGuard = replayGuard;
        this.entryGuard = replayGuard instanceof RedisReplayGuard redisGuard ? redisGuard : null;
        this.audit = builder.audit;
    }

    /**
     * Starts a verifier for {@code queue}. {@code tokens} is a verifying {@link ServiceTokens}
     * whose identity is {@code spiffe://<trust domain>/queue/<queue>} and which trusts the
     * publishers' keys and issuers; give it no replay guard of its own (this verifier checks the
     * replay last, after the payload, so a tampered copy cannot use up a genuine message's jti).
     */
    public static Builder builder(ServiceTokens tokens, String queue) {
        return new Builder(tokens, queue);
    }

    /** The queue's name. */
    public String queue() {
        return queue;
    }

    /** The allowed publishers: SPIFFE ID to service name (the owner of the stream it writes to). */
    public Map<String, String> publishers() {
        return publishers;
    }

    /**
     * Verifies a freshly received envelope, including the replay check.
     *
     * @throws QueueException a rejection, also recorded as an audit event; or
     *     {@link QueueException.Reason#REPLAY_CHECK_FAILED} when the replay guard fails (audited as
     *     {@code queue.replay_check_failed}): the message was not accepted
     */
    public VerifiedMessage verify(Envelope envelope) {
        return verify(envelope, null, null, null, false);
    }

    /** Whether the replay guard binds each jti to the stream entry that carries it ({@link RedisReplayGuard}). */
    boolean bindsEntries() {
        return entryGuard != null;
    }

    /** The {@link RedisReplayGuard}, where a consumer also records the entries it handled; null without one. */
    @Nullable RedisReplayGuard records() {
        return entryGuard;
    }

    /**
     * Verifies {@code envelope} as delivered by a transport. {@code authenticatedService}, if not
     * null, is the publisher the transport authenticated (its service name; Redis: the owner of the
     * stream it was read from): the issuer must be that service. {@code group}, if not null, is
     * the consumer group reading it: each group handles a message once, so the jti is recorded per
     * group. {@code entry}, if not null, names the message that carries it (needs
     * {@link #bindsEntries()}): the record names the message, and a {@code redelivery} of it passes
     * only if the record is missing or names this very message; a first delivery passes only if
     * there is no record at all. Without an entry, the plain replay check.
     */
    VerifiedMessage verify(Envelope envelope, @Nullable String authenticatedService, @Nullable String group,
                           @Nullable String entry, boolean redelivery) {
        Objects.requireNonNull(envelope, "envelope");
        if (entry != null && entryGuard == null) {
            throw new IllegalStateException("binding a jti to a stream entry needs a RedisReplayGuard");
        }
        Checked checked = checkAllButReplay(envelope, authenticatedService, entry);
        boolean first;
        try {
            first = firstUse(checked, group, entry, redelivery);
        } catch (RuntimeException e) {
            throw replayCheckFailed(checked, e, entry);
        }
        return accept(checked, first, entry);
    }

    /**
     * A message whose token (signature, audience, scope, validity), publisher and payload digest
     * verified: only the replay check is left, {@link #accept} after it.
     */
    record Checked(VerifiedToken token, String service, Envelope envelope) {

        /** The token's issuer, as the replay guard records it. */
        String issuer() {
            return token.issuer().toString();
        }

        /** The jti as the replay guard records it for {@code group}: each group handles a message once. */
        String use(@Nullable String group) {
            // Length-prefixed, so no group and jti pair can be read as another.
            return group == null ? token.jti() : group.length() + ":" + group + ":" + token.jti();
        }

        /** How long the replay guard keeps the record: past the token's expiry, so a late copy is still caught. */
        Instant until() {
            return token.expiresAt().plus(Duration.ofMinutes(5));
        }
    }

    /**
     * Verifies everything of {@code envelope} but the replay check (see {@link #verify(Envelope, String,
     * String, String, boolean)}); the replay check comes last, so a tampered copy cannot use up the
     * genuine message's jti.
     *
     * @throws QueueException a rejection, audited as {@code queue.message_rejected}
     */
    Checked checkAllButReplay(Envelope envelope, @Nullable String authenticatedService, @Nullable String entry) {
        Objects.requireNonNull(envelope, "envelope");
        try {
            VerifiedToken token;
            try {
                token = tokens.verify(envelope.token(), scope);
            } catch (TokenRejectedException e) {
                throw new QueueException(map(e.reason()), "the message's token was rejected (" + e.reason() + "): "
                        + e.getMessage());
            }
            String service = publishers.get(token.issuer().toString());
            if (service == null) {
                throw new QueueException(QueueException.Reason.WRONG_PUBLISHER, token.issuer()
                        + " may not publish to queue " + queue + "; grant it " + scope + " in the policy");
            }
            if (authenticatedService != null && !authenticatedService.equals(service)) {
                throw new QueueException(QueueException.Reason.WRONG_PUBLISHER, "a message signed by " + service
                        + " was sent by " + LogSafe.text(authenticatedService) + " (as the transport authenticated"
                        + " it: on Redis, the owner of the stream); a publisher may send only its own messages");
            }
            String digest = token.claims().get(Queues.PAYLOAD_DIGEST_CLAIM);
            if (digest == null) {
                throw new QueueException(QueueException.Reason.TAMPERED, "the token has no '"
                        + Queues.PAYLOAD_DIGEST_CLAIM + "' payload digest; seal messages with EnvelopeSigner");
            }
            if (!Queues.sameAscii(digest, Queues.digest(envelope.payloadUnsafe()))) {
                throw new QueueException(QueueException.Reason.TAMPERED, "the payload does not match the digest"
                        + " its token " + LogSafe.text(token.jti()) + " was minted for");
            }
            return new Checked(token, service, envelope);
        } catch (QueueException e) {
            throw audited(e, entry);
        }
    }

    /**
     * The message, once the replay check answered: {@code firstUse} false is a {@code REPLAYED}
     * rejection (audited).
     */
    VerifiedMessage accept(Checked checked, boolean firstUse, @Nullable String entry) {
        VerifiedToken token = checked.token();
        if (!firstUse) {
            throw audited(new QueueException(QueueException.Reason.REPLAYED, "token " + LogSafe.text(token.jti())
                    + " of " + token.issuer() + " was already used by another message (or the replay"
                    + " guard cannot tell and fails closed)"), entry);
        }
        return new VerifiedMessage(queue, token.issuer().toString(), checked.service(), token.jti(), token.issuedAt(),
                checked.envelope().payload());
    }

    /**
     * The refusal when the replay guard failed on {@code checked}'s check ({@code e}), audited as
     * {@code queue.replay_check_failed}: the message was neither accepted nor rejected.
     */
    QueueException replayCheckFailed(Checked checked, RuntimeException e, @Nullable String entry) {
        if (e instanceof QueueException refusal) {
            return audited(refusal, entry);
        }
        return audited(new QueueException(QueueException.Reason.REPLAY_CHECK_FAILED, "the replay guard could not check"
                + " token " + LogSafe.text(checked.token().jti()) + " (" + e.getClass().getName() + ": "
                + LogSafe.text(String.valueOf(e.getMessage())) + "); the message was not accepted: fix the"
                + " guard's Redis (reachable, writable, the user allowed SET on its replay keys)", e), entry);
    }

    /** Records {@code e} as a rejection, or as a failed replay check; returns it to throw. */
    private QueueException audited(QueueException e, @Nullable String entry) {
        return audit.event(e.isRejection() ? QueueAudit.MESSAGE_REJECTED : QueueAudit.REPLAY_CHECK_FAILED)
                .field("queue", queue).field("entry", entry == null ? "none" : entry).refused(e);
    }

    /**
     * Verifies a dead-lettered envelope before it is replayed: signature, issuer (the owner of
     * {@code streamOwner}'s stream), audience, scope and payload digest, all as {@link #verify}
     * does, but not the token's validity window (a message dead-lettered as {@code EXPIRED} is the
     * case) and no replay check (the replay is a new message). An expired token's claims are read
     * only after its signature, issuer and audience verified: the verifier checks those first.
     *
     * @throws QueueException {@code FORGED}, {@code TAMPERED}, {@code WRONG_*}, {@code MALFORMED}
     */
    VerifiedMessage verifyForReplay(Envelope envelope, String streamOwner) {
        String issuer;
        String jti;
        Instant issuedAt;
        String digest;
        boolean scoped;
        try {
            VerifiedToken token = tokens.verify(envelope.token());
            issuer = token.issuer().toString();
            jti = token.jti();
            issuedAt = token.issuedAt();
            digest = token.claims().get(Queues.PAYLOAD_DIGEST_CLAIM);
            scoped = token.scopes().contains(scope);
        } catch (TokenRejectedException e) {
            if (e.reason() != TokenRejectedException.Reason.EXPIRED
                    && e.reason() != TokenRejectedException.Reason.NOT_YET_VALID) {
                throw new QueueException(map(e.reason()), "the dead letter's token was rejected (" + e.reason() + "): "
                        + e.getMessage());
            }
            JsonNode claims = signedClaims(envelope.token());
            issuer = claims.path("iss").asText();
            jti = claims.path("jti").asText();
            issuedAt = Instant.ofEpochSecond(claims.path("iat").asLong());
            digest = claims.path(Queues.PAYLOAD_DIGEST_CLAIM).isTextual()
                    ? claims.path(Queues.PAYLOAD_DIGEST_CLAIM).asText() : null;
            scoped = false;
            for (JsonNode granted : claims.path("scope")) { // an array of strings
                scoped |= scope.equals(granted.asText());
            }
        }
        if (!scoped) {
            throw new QueueException(QueueException.Reason.WRONG_SCOPE, "the dead letter's token lacks " + scope);
        }
        if (!streamOwner.equals(publishers.get(issuer))) {
            throw new QueueException(QueueException.Reason.WRONG_PUBLISHER, "the dead letter's token was issued by "
                    + LogSafe.text(issuer) + ", not by the owner of " + LogSafe.text(streamOwner) + "'s stream");
        }
        if (digest == null || !Queues.sameAscii(digest, Queues.digest(envelope.payloadUnsafe()))) {
            throw new QueueException(QueueException.Reason.TAMPERED, "the dead letter's payload is not the one its"
                    + " token " + LogSafe.text(jti) + " was minted for");
        }
        return new VerifiedMessage(queue, issuer, streamOwner, jti, issuedAt, envelope.payload());
    }

    /** The claims of a token whose signature, issuer and audience {@link ServiceTokens} verified. */
    private static JsonNode signedClaims(String token) {
        try {
            String payload = token.substring(token.indexOf('.') + 1, token.lastIndexOf('.'));
            return new ObjectMapper().readTree(Base64.getUrlDecoder().decode(payload));
        } catch (IOException | RuntimeException e) {
            throw new QueueException(QueueException.Reason.MALFORMED, "the dead letter's token claims are not JSON");
        }
    }

    /**
     * The replay check, last: after the payload, so a tampered copy cannot use up a genuine
     * message's jti. A guard that fails throws; the caller makes it
     * {@link QueueException.Reason#REPLAY_CHECK_FAILED}: the message is neither accepted nor rejected,
     * and checked again on its next delivery.
     */
    private boolean firstUse(Checked checked, @Nullable String group, @Nullable String entry, boolean redelivery) {
        String use = checked.use(group);
        Instant until = checked.until();
        if (entry == null) {
            return replayGuard.firstUse(checked.issuer(), use, until);
        }
        RedisReplayGuard guard = entryGuard;
        if (guard == null) { // verify(...) refused an entry without one before anything else
            throw new IllegalStateException("binding a jti to a stream entry needs a RedisReplayGuard");
        }
        return redelivery ? guard.usedOnlyBy(checked.issuer(), use, until, entry)
                : guard.firstUse(checked.issuer(), use, until, entry);
    }

    private static QueueException.Reason map(TokenRejectedException.Reason reason) {
        return switch (reason) {
            case UNKNOWN_KEY, BAD_SIGNATURE, UNSUPPORTED_ALGORITHM -> QueueException.Reason.FORGED;
            case EXPIRED, NOT_YET_VALID, LIFETIME_TOO_LONG -> QueueException.Reason.EXPIRED;
            case INSUFFICIENT_SCOPE -> QueueException.Reason.WRONG_SCOPE;
            case WRONG_AUDIENCE -> QueueException.Reason.WRONG_QUEUE;
            case WRONG_ISSUER -> QueueException.Reason.WRONG_PUBLISHER;
            case REPLAYED -> QueueException.Reason.REPLAYED;
            default -> QueueException.Reason.MALFORMED;
        };
    }

    @Override
    public String toString() {
        return "EnvelopeVerifier[" + tokens.identity() + ", publishers=" + publishers.keySet() + "]";
    }

    /** Settings of an {@link EnvelopeVerifier}. */
    public static final class Builder {
        private final ServiceTokens tokens;
        private final String queue;
        private final Map<String, String> publishers = new LinkedHashMap<>();
        private @Nullable ReplayGuard replayGuard;
        private AuditLog audit = AuditLog.slf4j();

        private Builder(ServiceTokens tokens, String queue) {
            this.tokens = Objects.requireNonNull(tokens, "tokens");
            this.queue = Queues.checkName(queue);
        }

        /** Allows every service the policy grants {@code queue:<name>:publish}. */
        public Builder policy(Policy policy) {
            Objects.requireNonNull(policy, "policy");
            for (ServicePolicy service : policy.services()) {
                if (service.mayHold(Queues.publishScope(queue))) {
                    publishers.put(service.identity().toString(), service.name());
                }
            }
            return this;
        }

        /** Allows these publishers (SPIFFE IDs; the service name is the ID's last path segment). */
        public Builder publishers(String... spiffeIds) {
            Arrays.stream(spiffeIds).forEach(id -> {
                try {
                    ServiceIdentity identity = ServiceIdentity.parse(id);
                    publishers.put(identity.toString(), identity.serviceName());
                } catch (InvalidServiceIdentityException e) {
                    throw new QueueException(QueueException.Reason.INVALID_CONFIGURATION, "publishers are SPIFFE IDs: "
                            + e.getMessage());
                }
            });
            return this;
        }

        /**
         * Required: remembers each issuer + jti, shared by all workers. A {@link QueueConsumer}
         * needs redis-tls's {@link RedisReplayGuard}, which binds each jti to the stream entry that
         * carries it, so a reclaimed entry is checked too; {@link #verify(Envelope)} alone works
         * with any guard.
         */
        public Builder replayGuard(ReplayGuard replayGuard) {
            this.replayGuard = Objects.requireNonNull(replayGuard, "replayGuard");
            return this;
        }

        /** Where rejections are recorded (default SLF4J). */
        public Builder auditLog(AuditLog audit) {
            this.audit = Objects.requireNonNull(audit, "audit");
            return this;
        }

        /** The verifier. */
        public EnvelopeVerifier build() {
            String expected = Queues.audience(tokens.identity().trustDomain(), queue);
            if (!tokens.identity().toString().equals(expected)) {
                throw new QueueException(QueueException.Reason.INVALID_CONFIGURATION, "the verifying ServiceTokens"
                        + " must have the queue's identity " + expected + " (the audience publishers mint for); it has "
                        + tokens.identity());
            }
            if (publishers.isEmpty()) {
                throw new QueueException(QueueException.Reason.INVALID_CONFIGURATION, "no publisher may publish to "
                        + queue + "; give policy(...) granting " + Queues.publishScope(queue) + " or publishers(...)");
            }
            if (replayGuard == null) {
                throw new QueueException(QueueException.Reason.INVALID_CONFIGURATION, "set replayGuard(...): every"
                        + " message token is one-time");
            }
            return new EnvelopeVerifier(this, replayGuard);
        }
    }
}
