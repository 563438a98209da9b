package io.settler.zerotrust.token;

import io.jsonwebtoken.JwtBuilder;
import io.jsonwebtoken.Jwts;
import io.settler.zerotrust.audit.AuditLog;
import io.settler.zerotrust.audit.LogSafe;
import io.settler.zerotrust.credentials.CertificateFingerprint;
import io.settler.zerotrust.identity.ServiceIdentity;
import io.settler.zerotrust.policy.Policy;
import io.settler.zerotrust.policy.ServicePolicy;
import io.settler.zerotrust.time.Durations;
import io.settler.zerotrust.token.TokenRejectedException.Reason;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.Collections;
import java.util.Date;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import javax.crypto.SecretKey;
import org.jspecify.annotations.Nullable;

/**
 * Mints and verifies scoped service tokens: compact JWS with header {@code typ: svc+jwt}, {@code
 * alg}, {@code kid} and the claims {@code iss}, {@code sub}, {@code aud} (one value), {@code iat},
 * {@code nbf}, {@code exp}, {@code jti} and {@code scope} (a JSON array), optionally {@code cnf}.
 *
 * <pre>{@code
 * ServiceTokens api = ServiceTokens.builder()
 *         .identity("spiffe://example.org/api")
 *         .keys(KeySet.builder().signingKey(TokenKey.generate(TokenAlgorithm.ES256, "api-1")).build())
 *         .policy(policy)                                 // refuse scopes the policy does not grant
 *         .build();
 * String token = api.mint("spiffe://example.org/db-proxy", List.of("db:read"));
 *
 * ServiceTokens proxy = ServiceTokens.builder()
 *         .identity("spiffe://example.org/db-proxy")      // the audience it accepts
 *         .verificationKeys(KeySet.fromJwks(apiJwks).pinnedTo("spiffe://example.org/api"))
 *         .trustIssuers("spiffe://example.org/api")
 *         .build();
 * VerifiedToken verified = proxy.verify(token, "db:read");
 * }</pre>
 *
 * <p>Verification is strict before it is fast: a size cap before any parsing, exactly three
 * segments of canonical base64url, a header of only {@code alg}, {@code kid} and {@code typ}, the
 * algorithm pinned to the key (and the key to its issuers), exact signature lengths, JSON without
 * duplicate members, integer {@code exp}, {@code iat} and {@code nbf} within years 1970 to 9999, a
 * maximum lifetime, exactly this audience, a trusted issuer whose pinned key signed the token and
 * which {@code sub} equals (a token speaks only for its issuer), and exact scopes. Signatures are
 * checked with the JDK's {@code Mac} and {@code Signature} on the raw bytes. A bounded cache of
 * verified tokens (keyed on the exact token text, expiring with the token) makes the usual
 * repeated token cheap; scopes, replay and the certificate binding are checked on every call.
 *
 * <p>Immutable and thread-safe. Every rejection and refused mint is an audit event.
 */
public final class ServiceTokens {

    /** The header {@code typ} of a service token. */
    public static final String TYPE = "svc+jwt";
    private static final String MEDIA_TYPE_PREFIX = "application/";

    /** {@link #self} as text: the SPIFFE ID that minted tokens carry and accepted ones must name. */
    private final String identity;
    private final ServiceIdentity self;
    private final @Nullable TokenKey signingKey;
    private final KeySource verificationKeys;
    /** The trusted issuers by their SPIFFE ID text, so a token's {@code iss} is looked up, not parsed. */
    private final Map<String, ServiceIdentity> trustedIssuers;
    private final @Nullable Policy policy;
    private final Clock clock;
    private final long skewSeconds;
    private final Duration defaultLifetime;
    private final Duration maxLifetime;
    private final @Nullable ReplayGuard replayGuard;
    private final @Nullable ExpiringMap<String, Cached> cache;
    private final int maxTokenLength;
    private final boolean bindingRequired;
    private final AuditLog audit;
    /** Connections present the same certificate object on every request: hash it once per object. */
    private final ThumbprintCache peerThumbprints = new ThumbprintCache();
    private final SecureRandom random = new SecureRandom();

    private ServiceTokens(Builder builder, String identity) {
        this.identity = identity;
        this.self = ServiceIdentity.parse(identity);
        this.signingKey = builder.signingKey;
        this.verificationKeys = builder.verificationKeys;
        Map<String, ServiceIdentity> trusted = new LinkedHashMap<>();
        builder.trustedIssuers.forEach(issuer -> trusted.put(issuer.toString(), issuer));
        this.trustedIssuers = Collections.unmodifiableMap(trusted);
        this.policy = builder.policy;
        this.clock = builder.clock;
        this.skewSeconds = Durations.toSecondsRoundedUp(builder.skew);
        this.defaultLifetime = builder.defaultLifetime;
        this.maxLifetime = builder.maxLifetime;
        this.replayGuard = builder.replayGuard;
        this.cache = builder.cacheSize == 0 ? null : new ExpiringMap<>(builder.cacheSize);
        this.maxTokenLength = builder.maxTokenLength;
        this.bindingRequired = builder.bindingRequired;
        this.audit = builder.audit;
    }

    /** Starts a configuration; {@link Builder#identity} is required. */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * This service's identity: the issuer of what it mints, the audience of what it accepts. Its
     * text ({@code toString()}) is the SPIFFE ID that tokens carry in {@code iss}, {@code sub} and
     * {@code aud}.
     */
    public ServiceIdentity identity() {
        return self;
    }

    Clock clock() {
        return clock;
    }

    /**
     * Mints a token for {@code audience} with these scopes and the default lifetime.
     *
     * @throws ServiceTokenException if there is no signing key, or the policy does not grant a scope
     */
    public String mint(String audience, Collection<String> scopes) {
        return mint(TokenRequest.to(audience).scopes(scopes).build());
    }

    /**
     * Mints a token as the request says.
     *
     * @throws ServiceTokenException if there is no signing key, the lifetime exceeds the maximum,
     *     the policy does not grant a scope, or the certificate to bind to has expired
     */
    public String mint(TokenRequest request) {
        return mintToken(request).token();
    }

    /** A minted token and its times, for {@link TokenSource}. */
    record Minted(String token, Instant issuedAt, Instant expiresAt) {
    }

    Minted mintToken(TokenRequest request) {
        Objects.requireNonNull(request, "request");
        try {
            return mintChecked(request);
        } catch (ServiceTokenException e) {
            throw audit.event(TokenAudit.MINT_REFUSED).field("issuer", identity).field("audience", request.audience())
                    .refused(e);
        }
    }

    private Minted mintChecked(TokenRequest request) {
        if (signingKey == null) {
            throw new ServiceTokenException(ServiceTokenException.Reason.NO_SIGNING_KEY, identity
                    + " has no signing key; set signingKey(...) or keys(...) with a signing key to mint");
        }
        Duration lifetime = request.lifetime().orElse(defaultLifetime);
        if (lifetime.compareTo(maxLifetime) > 0) {
            throw new ServiceTokenException(ServiceTokenException.Reason.INVALID_REQUEST, "a lifetime of "
                    + lifetime + " exceeds the maximum of " + maxLifetime + "; ask for a shorter one");
        }
        checkGranted(request.scopes());
        Instant now = Instant.ofEpochSecond(clock.instant().getEpochSecond());
        Instant expiresAt = now.plus(lifetime);
        String thumbprint = null;
        if (request.certificate().isPresent()) {
            X509Certificate certificate = request.certificate().get();
            Instant notAfter = Instant.ofEpochSecond(certificate.getNotAfter().toInstant().getEpochSecond());
            if (!notAfter.isAfter(now)) {
                throw new ServiceTokenException(ServiceTokenException.Reason.CERTIFICATE_EXPIRED, "the certificate"
                        + " to bind the token to expired at " + notAfter + "; bind to the current certificate");
            }
            if (notAfter.isBefore(expiresAt)) {
                expiresAt = notAfter;
            }
            thumbprint = thumbprint(certificate);
        }
        byte[] id = new byte[16];
        random.nextBytes(id);
        JwtBuilder jwt = Jwts.builder()
                .header().type(TYPE).keyId(signingKey.kid()).and()
                .issuer(identity).subject(identity).claim("aud", request.audience())
                .issuedAt(Date.from(now)).notBefore(Date.from(now)).expiration(Date.from(expiresAt))
                .id(Base64Url.encode(id))
                .claim("scope", List.copyOf(request.scopes()));
        if (thumbprint != null) {
            jwt.claim("cnf", Map.of(TokenJson.THUMBPRINT, thumbprint));
        }
        request.claims().forEach(jwt::claim);
        switch (signingKey.algorithm()) {
            case HS256:
                jwt.signWith((SecretKey) signingKey.signingKey(), Jwts.SIG.HS256);
                break;
            case ES256:
                jwt.signWith((PrivateKey) signingKey.signingKey(), Jwts.SIG.ES256);
                break;
            default:
                jwt.signWith((PrivateKey) signingKey.signingKey(), Jwts.SIG.EdDSA);
        }
        return new Minted(jwt.compact(), now, expiresAt);
    }

    private void checkGranted(Set<String> scopes) {
        if (policy == null) {
            return;
        }
        Optional<ServicePolicy> service = policy.service(self);
        if (service.isEmpty()) {
            throw new ServiceTokenException(ServiceTokenException.Reason.SCOPE_NOT_GRANTED, "the policy has no"
                    + " service with identity " + identity + ", so it grants no scopes");
        }
        Set<String> missing = new TreeSet<>(scopes);
        missing.removeAll(service.get().scopes());
        if (!missing.isEmpty()) {
            throw new ServiceTokenException(ServiceTokenException.Reason.SCOPE_NOT_GRANTED, "the policy does not"
                    + " grant " + identity + " the scopes " + missing + "; it may hold " + service.get().scopes());
        }
    }

    /**
     * Verifies a token presented without a client certificate (a certificate-bound token is
     * therefore refused) and requires each of {@code requiredScopes}.
     *
     * @throws TokenRejectedException with the reason, also recorded as an audit event
     */
    public VerifiedToken verify(String token, String... requiredScopes) {
        return check(token, null, requiredScopes);
    }

    /**
     * Verifies a token that arrived over a connection whose peer presented {@code peerCertificate};
     * a certificate-bound token must be bound to exactly that certificate.
     *
     * @throws TokenRejectedException with the reason, also recorded as an audit event
     */
    public VerifiedToken verify(String token, X509Certificate peerCertificate, String... requiredScopes) {
        Objects.requireNonNull(peerCertificate, "peerCertificate; use verify(token, scopes) without a certificate");
        return check(token, peerCertificate, requiredScopes);
    }

    /**
     * Verifies like {@link #verify(String, String...)} on a thread that must never block, such as a
     * Netty event loop: keys are looked up with {@link KeySource#heldKey}, never waiting for a fetch,
     * and a {@link ReplayGuard} that {@linkplain ReplayGuard#mayBlock may block} is never called.
     * Empty when the token's key is not held yet but a fetch that may bring it is under way (never
     * with a {@link KeySet}), or when the token passed every other check and only such a replay guard
     * is left to ask: then nothing was decided or recorded (the token was not used up), and the
     * caller verifies the token again with {@link #verify(String, String...)} on a thread that may
     * wait. A rejection for any other reason is decided here.
     *
     * @throws TokenRejectedException with the reason, also recorded as an audit event
     */
    public Optional<VerifiedToken> verifyWithoutWaiting(String token, String... requiredScopes) {
        return Optional.ofNullable(check(token, null, requiredScopes, false));
    }

    /**
     * Verifies like {@link #verify(String, X509Certificate, String...)} without ever blocking; empty
     * when the key is not held yet but being fetched, or only a replay guard that may block is left
     * to ask (see {@link #verifyWithoutWaiting(String, String...)}).
     *
     * @throws TokenRejectedException with the reason, also recorded as an audit event
     */
    public Optional<VerifiedToken> verifyWithoutWaiting(String token, X509Certificate peerCertificate,
                                                       String... requiredScopes) {
        Objects.requireNonNull(peerCertificate, "peerCertificate; use verifyWithoutWaiting(token, scopes)");
        return Optional.ofNullable(check(token, peerCertificate, requiredScopes, false));
    }

    /**
     * Thrown inside a verification that may not wait when it would have to: the key is still being
     * fetched, or only a replay guard that may block is left to ask. Never escapes.
     */
    private static final class MustWait extends RuntimeException {
        private static final long serialVersionUID = 1L;

        MustWait() {
            super(null, null, false, false);
        }
    }

    private VerifiedToken check(String token, @Nullable X509Certificate peer, String[] requiredScopes) {
        return Objects.requireNonNull(check(token, peer, requiredScopes, true), "a check that may wait always decides");
    }

    /** The verified token; {@code null} only when {@code mayWait} is false and deciding would have to wait. */
    private @Nullable VerifiedToken check(String token, @Nullable X509Certificate peer, String[] requiredScopes,
                                          boolean mayWait) {
        long start = System.nanoTime();
        try {
            if (token == null || token.isEmpty()) {
                throw reject(Reason.MALFORMED, "no token was presented");
            }
            if (token.length() > maxTokenLength) { // before the cache hashes it or anything parses it
                throw reject(Reason.TOO_LARGE, "the token is " + token.length() + " characters; the limit is "
                        + maxTokenLength);
            }
            long now = clock.instant().getEpochSecond();
            Cached cached = cache == null ? null : cache.get(token, now);
            if (cached != null) { // the hot path: one increment for a counting log, nothing for one that drops it
                checkPerCall(cached.token(), peer, requiredScopes, mayWait);
                cached.verifiedAgain().add();
                return cached.token();
            }
            VerifiedToken verified = verifyCold(token, now, mayWait);
            if (cache != null) {
                cache.put(token, new Cached(verified, audit.tally(TokenAudit.VERIFIED, verifiedFields(verified, true))),
                        verified.expiresAt().getEpochSecond() + skewSeconds, now);
            }
            checkPerCall(verified, peer, requiredScopes, mayWait);
            if (audit.records(TokenAudit.VERIFIED)) { // nothing is built for a log that drops it
                AuditLog.Entry event = audit.event(TokenAudit.VERIFIED);
                verifiedFields(verified, false).forEach(event::field);
                event.elapsedSince(start).record();
            }
            return verified;
        } catch (MustWait e) {
            return null;
        } catch (TokenRejectedException e) {
            throw audit.event(TokenAudit.REJECTED).field("audience", identity).elapsedSince(start).refused(e);
        }
    }

    private Map<String, String> verifiedFields(VerifiedToken verified, boolean cached) {
        Map<String, String> fields = new LinkedHashMap<>();
        fields.put("issuer", verified.issuer().toString());
        fields.put("audience", identity);
        fields.put("cached", Boolean.toString(cached));
        return fields;
    }

    /**
     * A verified token in the cache, with the tally that counts each later verification of it: a
     * cached verification costs the per-call checks and one increment.
     */
    private record Cached(VerifiedToken token, AuditLog.Tally verifiedAgain) {
    }

    private VerifiedToken verifyCold(String token, long now, boolean mayWait) {
        int length = token.length();
        int first = token.indexOf('.');
        int second = first < 0 ? -1 : token.indexOf('.', first + 1);
        if (second < 0 || token.indexOf('.', second + 1) >= 0) {
            throw reject(Reason.MALFORMED, "a token is three base64url segments separated by two dots");
        }
        TokenJson.Header header = TokenJson.header(segment(token, 0, first, "header"));
        if (header.typ() == null || !isServiceTokenType(header.typ())) {
            throw reject(Reason.WRONG_TYPE, "the header typ is " + (header.typ() == null ? "absent" : "'"
                    + LogSafe.text(header.typ()) + "'") + "; a service token has typ " + TYPE);
        }
        if (header.alg() == null) {
            throw reject(Reason.UNSUPPORTED_ALGORITHM, "the header has no alg");
        }
        Optional<TokenAlgorithm> algorithm = TokenAlgorithm.fromJwsName(header.alg());
        if (algorithm.isEmpty()) {
            throw reject(Reason.UNSUPPORTED_ALGORITHM, "alg '" + LogSafe.text(header.alg())
                    + "' is refused; service tokens use HS256, ES256 or EdDSA, as pinned to their key");
        }
        if (header.kid() == null) {
            throw reject(Reason.UNKNOWN_KEY, "the header has no kid; every service token names its key");
        }
        TokenKey key = findKey(header.kid(), mayWait).orElseThrow(() -> reject(Reason.UNKNOWN_KEY, "no trusted key"
                + " has kid '" + LogSafe.text(header.kid()) + "'; publish it in the verifier's key set"));
        if (key.algorithm() != algorithm.get()) {
            throw reject(Reason.UNSUPPORTED_ALGORITHM, "key '" + key.kid() + "' is pinned to "
                    + key.algorithm().jwsName() + ", the token says " + header.alg());
        }
        byte[] payloadJson = segment(token, first + 1, second, "payload");
        byte[] signature = segment(token, second + 1, length, "signature");
        if (signature.length != key.algorithm().signatureLength()) {
            throw reject(Reason.BAD_SIGNATURE, "the signature is " + signature.length + " bytes; "
                    + key.algorithm().jwsName() + " signatures are exactly " + key.algorithm().signatureLength());
        }
        byte[] signingInput = new byte[second];
        for (int i = 0; i < second; i++) {
            signingInput[i] = (byte) token.charAt(i); // ASCII: both segments decoded as base64url above
        }
        if (!key.verify(signingInput, signature)) {
            throw reject(Reason.BAD_SIGNATURE, "the signature does not verify with key '" + key.kid() + "'");
        }
        return checkClaims(TokenJson.claims(payloadJson), key, now);
    }

    /**
     * {@code typ} is a media type (RFC 7515, 4.1.9): {@code svc+jwt} or {@code application/svc+jwt},
     * in any ASCII case. Only ASCII letters fold: {@code String.equalsIgnoreCase} would also match
     * look-alikes such as U+017F (long s) for {@code s}.
     */
    static boolean isServiceTokenType(String typ) {
        int offset = typ.length() == MEDIA_TYPE_PREFIX.length() + TYPE.length()
                && asciiEqualsIgnoreCase(typ, 0, MEDIA_TYPE_PREFIX) ? MEDIA_TYPE_PREFIX.length() : 0;
        return typ.length() - offset == TYPE.length() && asciiEqualsIgnoreCase(typ, offset, TYPE);
    }

    /** Whether {@code text} holds {@code lowerCase} at {@code offset}, ASCII letters in either case. */
    private static boolean asciiEqualsIgnoreCase(String text, int offset, String lowerCase) {
        for (int i = 0; i < lowerCase.length(); i++) {
            char c = text.charAt(offset + i);
            if ((c >= 'A' && c <= 'Z' ? (char) (c + ('a' - 'A')) : c) != lowerCase.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    private Optional<TokenKey> findKey(String kid, boolean mayWait) {
        if (mayWait) {
            return verificationKeys.key(kid);
        }
        boolean wasFetching = verificationKeys.fetching();
        Optional<TokenKey> key = verificationKeys.heldKey(kid); // a miss may start a fetch
        if (key.isPresent()) {
            return key;
        }
        if (verificationKeys.fetching()) {
            throw new MustWait(); // that fetch may bring it: let the caller verify where it may wait
        }
        return wasFetching ? verificationKeys.heldKey(kid) : key; // a fetch ended in between: its keys are held
    }

    private static byte[] segment(String token, int from, int to, String name) {
        byte[] bytes = Base64Url.decode(token, from, to);
        if (bytes == null) {
            throw reject(Reason.MALFORMED, "the " + name + " segment is empty or not canonical base64url (no"
                    + " padding, no other characters, zero trailing bits)");
        }
        return bytes;
    }

    private VerifiedToken checkClaims(TokenJson.Claims claims, TokenKey key, long now) {
        if (claims.iss() == null || claims.sub() == null || claims.aud() == null || claims.exp() == null
                || claims.iat() == null || claims.jti() == null || claims.scopes() == null) {
            String missing = claims.iss() == null ? "iss" : claims.sub() == null ? "sub" : claims.aud() == null ? "aud"
                    : claims.exp() == null ? "exp" : claims.iat() == null ? "iat" : claims.jti() == null ? "jti"
                    : "scope";
            throw reject(Reason.MISSING_CLAIM, "the token has no '" + missing + "' claim; service tokens carry iss,"
                    + " sub, aud, iat, exp, jti and scope");
        }
        ServiceIdentity caller = trustedIssuers.get(claims.iss());
        if (caller == null) {
            throw reject(Reason.WRONG_ISSUER, "issuer '" + LogSafe.text(claims.iss()) + "' is not trusted by "
                    + identity + "; trusted: " + trustedIssuers.keySet());
        }
        if (!key.mayBeUsedBy(caller)) {
            throw reject(Reason.WRONG_ISSUER, "key '" + key.kid() + "' belongs to " + key.issuers()
                    + ", not to issuer '" + LogSafe.text(claims.iss()) + "'");
        }
        if (key.issuers().isEmpty() && trustedIssuers.size() > 1) {
            throw reject(Reason.WRONG_ISSUER, "key '" + key.kid() + "' is pinned to no issuer and this verifier"
                    + " trusts " + trustedIssuers.size() + ", so it cannot tell whom the key speaks for; pin each"
                    + " key to its issuer (TokenKey.forIssuers, KeySet.pinnedTo, JwksSource.Builder.pinnedTo)");
        }
        if (!claims.sub().equals(claims.iss())) {
            throw reject(Reason.WRONG_ISSUER, "the token's subject '" + LogSafe.text(claims.sub())
                    + "' is not its issuer '" + LogSafe.text(claims.iss()) + "'; a service token speaks only for the"
                    + " service whose key signed it, so sub must equal iss");
        }
        if (!claims.aud().equals(identity)) {
            throw reject(Reason.WRONG_AUDIENCE, "the token is for '" + LogSafe.text(claims.aud()) + "', not for "
                    + identity);
        }
        long iat = claims.iat();
        long exp = claims.exp();
        if (exp <= iat) {
            throw reject(Reason.MALFORMED, "exp is not after iat");
        }
        if (exp - iat > maxLifetime.toSeconds()) {
            throw reject(Reason.LIFETIME_TOO_LONG, "the token lives " + (exp - iat) + " s; this verifier accepts at"
                    + " most " + maxLifetime.toSeconds() + " s");
        }
        if (now >= exp + skewSeconds) {
            throw reject(Reason.EXPIRED, "the token expired at " + Instant.ofEpochSecond(exp) + "; mint a new one");
        }
        if (iat > now + skewSeconds || (claims.nbf() != null && claims.nbf() > now + skewSeconds)) {
            throw reject(Reason.NOT_YET_VALID, "the token is not valid before "
                    + Instant.ofEpochSecond(Math.max(iat, claims.nbf() == null ? iat : claims.nbf()))
                    + "; check the clocks of both services");
        }
        // The caller is the issuer the key is pinned to (sub was checked equal to it above).
        // iss is a trusted issuer and aud is this service: both typed when configured.
        return new VerifiedToken(caller, caller, self, new LinkedHashSet<>(claims.scopes()),
                Instant.ofEpochSecond(iat), Instant.ofEpochSecond(exp), claims.jti(), key.kid(),
                Optional.ofNullable(claims.thumbprint()), claims.extra());
    }

    private void checkPerCall(VerifiedToken verified, @Nullable X509Certificate peer, String[] requiredScopes,
                              boolean mayWait) {
        for (String scope : requiredScopes) {
            if (!verified.scopes().contains(scope)) {
                throw reject(Reason.INSUFFICIENT_SCOPE, "the token of " + LogSafe.text(verified.service().toString())
                        + " lacks the scope '" + LogSafe.text(scope) + "'; it holds " + verified.scopes());
            }
        }
        if (bindingRequired && verified.certificateThumbprint().isEmpty()) {
            throw reject(Reason.CERTIFICATE_MISMATCH, "this verifier accepts only certificate-bound tokens; mint with"
                    + " TokenRequest.boundTo(the caller's certificate)");
        }
        if (verified.certificateThumbprint().isPresent()) {
            if (peer == null) {
                throw reject(Reason.CERTIFICATE_MISMATCH, "the token is bound to a certificate, but no peer"
                        + " certificate was given; verify it with the connection's peer certificate");
            }
            byte[] expected = verified.certificateThumbprint().get().getBytes(StandardCharsets.US_ASCII);
            byte[] actual = peerThumbprints.thumbprint(peer).getBytes(StandardCharsets.US_ASCII);
            if (!MessageDigest.isEqual(expected, actual)) {
                throw reject(Reason.CERTIFICATE_MISMATCH, "the token is bound to another certificate than the"
                        + " peer's (" + CertificateFingerprint.sha256(peer) + ")");
            }
        }
        if (replayGuard != null && !mayWait && replayGuard.mayBlock()) {
            throw new MustWait(); // the last check, and it may do I/O: let the caller ask where it may wait
        }
        if (replayGuard != null && !firstUse(replayGuard, verified)) {
            throw reject(Reason.REPLAYED, "token " + LogSafe.text(verified.jti()) + " of "
                    + LogSafe.text(verified.issuer().toString())
                    + " was already used (or the replay guard is full and fails closed)");
        }
    }

    private boolean firstUse(ReplayGuard replayGuard, VerifiedToken verified) {
        try {
            return replayGuard.firstUse(verified.issuer().toString(), verified.jti(),
                    verified.expiresAt().plusSeconds(skewSeconds));
        } catch (RuntimeException e) {
            throw reject(Reason.REPLAY_CHECK_FAILED, "the replay guard could not record token "
                    + LogSafe.text(verified.jti()) + " (" + e.getClass().getSimpleName() + ": "
                    + LogSafe.text(String.valueOf(e.getMessage())) + "); refused rather than risk a replay");
        }
    }

    /** RFC 8705 {@code x5t#S256}: base64url of the SHA-256 of the DER certificate. */
    static String thumbprint(X509Certificate certificate) {
        return Base64Url.encode(HexFormat.of().parseHex(CertificateFingerprint.sha256(certificate)));
    }

    private static TokenRejectedException reject(Reason reason, String message) {
        return new TokenRejectedException(reason, message);
    }

    @Override
    public String toString() {
        return "ServiceTokens[" + identity + ", signs=" + (signingKey == null ? "no" : signingKey.kid())
                + ", trusts=" + trustedIssuers.keySet() + "]";
    }

    /** Configures {@link ServiceTokens}. Not thread-safe. */
    public static final class Builder {
        private static final Duration MAX_SKEW = Duration.ofMinutes(5);
        private static final Duration LONGEST_LIFETIME = Duration.ofHours(24);

        private @Nullable String identity;
        private @Nullable TokenKey signingKey;
        private KeySource verificationKeys = kid -> Optional.empty();
        /** Whether keys were given to verify with, not only to mint: then an issuer must be trusted. */
        private boolean verifies;
        private final Set<ServiceIdentity> trustedIssuers = new LinkedHashSet<>();
        private @Nullable Policy policy;
        private Clock clock = Clock.systemUTC();
        private Duration skew = Duration.ofSeconds(30);
        private Duration defaultLifetime = Duration.ofMinutes(5);
        private Duration maxLifetime = Duration.ofHours(1);
        private @Nullable ReplayGuard replayGuard;
        private int cacheSize = 10_000;
        private int maxTokenLength = 8 * 1024;
        private boolean bindingRequired;
        private AuditLog audit = AuditLog.slf4j();

        private Builder() {
        }

        /**
         * This service, e.g. {@code spiffe://example.org/api}: {@code iss} and {@code sub} when minting,
         * the one accepted {@code aud}.
         */
        public Builder identity(String spiffeId) {
            this.identity = ServiceIdentity.parse(Objects.requireNonNull(spiffeId, "spiffeId")).toString();
            return this;
        }

        /** This service's identity. */
        public Builder identity(ServiceIdentity identity) {
            this.identity = Objects.requireNonNull(identity, "identity").toString();
            return this;
        }

        /** The key to mint with. */
        public Builder signingKey(TokenKey key) {
            Objects.requireNonNull(key, "key");
            if (!key.canSign()) {
                throw new ServiceTokenException(ServiceTokenException.Reason.INVALID_KEY, "key '" + key.kid()
                        + "' holds no private key or secret, so it cannot mint");
            }
            this.signingKey = key;
            return this;
        }

        /**
         * The keys tokens must be signed with: a {@link KeySet} or a refreshing {@link JwksSource}.
         * Needs {@link #trustIssuers(ServiceIdentity...)}: without a trusted issuer no token verifies.
         */
        public Builder verificationKeys(KeySource keys) {
            this.verificationKeys = Objects.requireNonNull(keys, "keys");
            this.verifies = true;
            return this;
        }

        /**
         * Both: the set's signing key (if it has one) mints, and the whole set verifies. A set
         * without a signing key is for verifying only, and then needs {@link #trustIssuers(ServiceIdentity...)}.
         */
        public Builder keys(KeySet keys) {
            Objects.requireNonNull(keys, "keys");
            keys.signingKey().ifPresent(this::signingKey);
            this.verificationKeys = keys;
            this.verifies |= keys.signingKey().isEmpty();
            return this;
        }

        /**
         * The issuers whose tokens this service accepts; adds to those given before.
         *
         * @param issuers the services whose tokens are accepted
         * @return this builder
         */
        public Builder trustIssuers(ServiceIdentity... issuers) {
            for (ServiceIdentity issuer : issuers) {
                trustedIssuers.add(Objects.requireNonNull(issuer, "issuer"));
            }
            return this;
        }

        /**
         * {@link #trustIssuers(ServiceIdentity...)} for SPIFFE IDs given as text, parsed first.
         *
         * @param issuers SPIFFE IDs, e.g. {@code spiffe://example.org/api}
         * @return this builder
         * @throws io.settler.zerotrust.identity.InvalidServiceIdentityException if one is not a valid SPIFFE ID
         */
        public Builder trustIssuers(String... issuers) {
            return trustIssuers(TokenKey.parseIssuers(issuers));
        }

        /** Mint only scopes this policy grants this service. */
        public Builder policy(Policy policy) {
            this.policy = Objects.requireNonNull(policy, "policy");
            return this;
        }

        /** The clock for iat, exp and every time check (default: the system UTC clock). */
        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /**
         * How far the peers' clocks may differ (default 30 s; zero for none, at most 5 min; rounded up
         * to whole seconds, the unit of token times).
         */
        public Builder clockSkew(Duration skew) {
            Objects.requireNonNull(skew, "skew");
            this.skew = skew.isZero() ? skew : TokenDurations.between(ServiceTokenException.Reason.INVALID_SETTING,
                    "clockSkew", skew, MAX_SKEW);
            return this;
        }

        /**
         * The lifetime of minted tokens unless a request asks otherwise (default 5 min; positive, at
         * most 24 h and the maximum lifetime; rounded up to whole seconds).
         */
        public Builder defaultLifetime(Duration lifetime) {
            this.defaultLifetime = lifetime(lifetime, "defaultLifetime");
            return this;
        }

        /**
         * The longest lifetime minted or accepted, {@code exp - iat} (default 1 h; positive, at most
         * 24 h; rounded up to whole seconds).
         */
        public Builder maxLifetime(Duration lifetime) {
            this.maxLifetime = lifetime(lifetime, "maxLifetime");
            return this;
        }

        /**
         * Accept each issuer and jti only once (off by default; for one-time tokens). A guard that
         * {@linkplain ReplayGuard#mayBlock may block} is never called by {@code verifyWithoutWaiting}, which
         * then answers empty for a token that passed every other check.
         */
        public Builder replayGuard(ReplayGuard guard) {
            this.replayGuard = Objects.requireNonNull(guard, "guard");
            return this;
        }

        /** How many verified tokens to remember until they expire (default 10 000; 0 turns the cache off). */
        public Builder verifiedTokenCache(int maxEntries) {
            if (maxEntries < 0) {
                throw setting("the cache size must be 0 (off) or more; got " + maxEntries);
            }
            this.cacheSize = maxEntries;
            return this;
        }

        /** The longest token accepted, in characters, checked before any parsing (default 8192). */
        public Builder maxTokenLength(int maxTokenLength) {
            if (maxTokenLength < 256 || maxTokenLength > 64 * 1024) {
                throw setting("the token size cap must be between 256 and 65536 characters; got " + maxTokenLength);
            }
            this.maxTokenLength = maxTokenLength;
            return this;
        }

        /** Accept only certificate-bound tokens, verified with the peer certificate (default: bound or not). */
        public Builder requireCertificateBinding() {
            this.bindingRequired = true;
            return this;
        }

        /** Where refusals go (default {@link AuditLog#slf4j()}). */
        public Builder auditLog(AuditLog audit) {
            this.audit = Objects.requireNonNull(audit, "audit");
            return this;
        }

        /**
         * The configured instance.
         *
         * @throws ServiceTokenException if the identity is missing, verification keys come without a
         *     trusted issuer, or the lifetimes contradict
         */
        public ServiceTokens build() {
            if (identity == null) {
                throw setting("set identity(...): the service's own SPIFFE ID, issuer and audience");
            }
            if (verifies && trustedIssuers.isEmpty()) {
                throw setting("verification keys are set but no issuer is trusted, so every token would be refused"
                        + " (WRONG_ISSUER): call trustIssuers(...) with the SPIFFE IDs of the services whose tokens "
                        + identity + " accepts");
            }
            if (defaultLifetime.compareTo(maxLifetime) > 0) {
                throw setting("the default lifetime " + defaultLifetime + " exceeds the maximum " + maxLifetime);
            }
            if (trustedIssuers.size() > 1 && verificationKeys instanceof KeySet set
                    && set.keys().stream().anyMatch(key -> key.issuers().isEmpty())) {
                throw setting("the verifier trusts " + trustedIssuers.size() + " issuers, so each verification key"
                        + " must be pinned to the issuers it speaks for; unpinned: " + set.keys().stream()
                        .filter(key -> key.issuers().isEmpty()).map(TokenKey::kid).toList()
                        + " (use TokenKey.forIssuers or KeySet.pinnedTo)");
            }
            return new ServiceTokens(this, identity);
        }

        private static Duration lifetime(Duration lifetime, String option) {
            return TokenDurations.wholeSecondsRoundedUp(TokenDurations.between(
                    ServiceTokenException.Reason.INVALID_SETTING, option, lifetime, LONGEST_LIFETIME));
        }

        private static ServiceTokenException setting(String message) {
            return new ServiceTokenException(ServiceTokenException.Reason.INVALID_SETTING, message);
        }
    }
}
