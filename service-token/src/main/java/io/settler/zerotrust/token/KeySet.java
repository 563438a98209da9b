package io.settler.zerotrust.token;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import io.jsonwebtoken.security.Jwk;
import io.jsonwebtoken.security.Jwks;
import io.jsonwebtoken.security.PublicJwk;
import io.settler.zerotrust.audit.LogSafe;
import io.settler.zerotrust.identity.ServiceIdentity;
import java.security.PublicKey;
import java.security.interfaces.ECPublicKey;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import javax.crypto.SecretKey;
import org.jspecify.annotations.Nullable;

/**
 * Trusted token keys addressed by {@code kid}, each pinned to one algorithm, with at most one
 * active signing key. Rotation: publish the new key for verification first, then make it the
 * signing key, then drop the old one once its tokens have expired.
 *
 * <pre>{@code
 * KeySet keys = KeySet.builder().signingKey(current).add(previous.verifyOnly()).build();
 * String jwks = keys.toJwks();                       // public keys only, for peers
 * KeySet trusted = KeySet.fromJwks(jwks).pinnedTo("spiffe://example.org/api");
 * }</pre>
 *
 * <p>Refused: duplicate kids; secret (HS256) and public keys in one set unless
 * {@link Builder#allowSecretAndPublicKeys()} is called; JWKS entries without a kid, with private
 * key material, or whose {@code use}, {@code key_ops} or {@code alg} forbid verifying signatures
 * with one of our algorithms. Immutable and thread-safe.
 */
public final class KeySet implements KeySource {

    private final Map<String, TokenKey> keys;
    private final @Nullable TokenKey signingKey;

    private KeySet(Map<String, TokenKey> keys, @Nullable TokenKey signingKey) {
        this.keys = Collections.unmodifiableMap(new LinkedHashMap<>(keys));
        this.signingKey = signingKey;
    }

    /** Starts an empty set. */
    public static Builder builder() {
        return new Builder();
    }

    /** A set of verification keys (none of them the signing key). */
    public static KeySet of(TokenKey... keys) {
        Builder builder = builder();
        for (TokenKey key : keys) {
            builder.add(key);
        }
        return builder.build();
    }

    /**
     * Reads a JWK Set ({@code {"keys":[...]}}) of verification keys: EC P-256 ({@code ES256}),
     * OKP Ed25519 ({@code EdDSA}) or, in a set of secrets only, {@code oct} ({@code HS256}).
     *
     * @throws ServiceTokenException naming the entry and what is wrong with it
     */
    public static KeySet fromJwks(String json) {
        return JwksReader.read(json);
    }

    /** The key with this id. */
    @Override
    public Optional<TokenKey> key(String kid) {
        return Optional.ofNullable(keys.get(kid));
    }

    /** Every key, in the order added. */
    public List<TokenKey> keys() {
        return List.copyOf(keys.values());
    }

    /** The active signing key, if this set has one. */
    public Optional<TokenKey> signingKey() {
        return Optional.ofNullable(signingKey);
    }

    /**
     * This set with every key usable only by tokens whose {@code iss} is one of {@code issuers}.
     *
     * @param issuers the services the keys speak for, normally the one that publishes them
     * @return the pinned set
     * @throws ServiceTokenException {@code INVALID_SETTING} if {@code issuers} is empty
     */
    public KeySet pinnedTo(ServiceIdentity... issuers) {
        Map<String, TokenKey> pinned = new LinkedHashMap<>();
        keys.forEach((kid, key) -> pinned.put(kid, key.forIssuers(issuers)));
        return new KeySet(pinned, signingKey == null ? null : pinned.get(signingKey.kid()));
    }

    /**
     * {@link #pinnedTo(ServiceIdentity...)} for SPIFFE IDs given as text, parsed first.
     *
     * @param issuers SPIFFE IDs, e.g. {@code spiffe://example.org/api}
     * @return the pinned set
     * @throws ServiceTokenException {@code INVALID_SETTING} if {@code issuers} is empty
     * @throws io.settler.zerotrust.identity.InvalidServiceIdentityException if one is not a valid SPIFFE ID
     */
    public KeySet pinnedTo(String... issuers) {
        return pinnedTo(TokenKey.parseIssuers(issuers));
    }

    /**
     * The public keys as a JWK Set with {@code kid}, {@code alg} and {@code use: sig}; secrets and
     * private halves are never exported.
     */
    public String toJwks() {
        List<String> entries = new ArrayList<>();
        for (TokenKey key : keys.values()) {
            Optional<PublicKey> publicKey = key.publicKey();
            if (publicKey.isEmpty()) {
                continue;
            }
            PublicJwk<?> jwk;
            if (publicKey.get() instanceof ECPublicKey) {
                jwk = Jwks.builder().key((ECPublicKey) publicKey.get()).id(key.kid())
                        .algorithm(key.algorithm().jwsName()).publicKeyUse("sig").build();
            } else {
                jwk = Jwks.builder().octetKey(publicKey.get()).id(key.kid())
                        .algorithm(key.algorithm().jwsName()).publicKeyUse("sig").build();
            }
            entries.add(Jwks.json(jwk));
        }
        return "{\"keys\":[" + String.join(",", entries) + "]}";
    }

    @Override
    public String toString() {
        return "KeySet" + keys.values();
    }

    /** Collects keys. Not thread-safe. */
    public static final class Builder {
        private final Map<String, TokenKey> keys = new LinkedHashMap<>();
        private @Nullable TokenKey signingKey;
        private boolean mixed;

        private Builder() {
        }

        /**
         * Adds a key that verifies.
         *
         * @throws ServiceTokenException if the kid is already in the set
         */
        public Builder add(TokenKey key) {
            Objects.requireNonNull(key, "key");
            if (keys.putIfAbsent(key.kid(), key) != null) {
                throw new ServiceTokenException(ServiceTokenException.Reason.INVALID_SETTING, "the key id '"
                        + key.kid() + "' is used twice; every key in a set needs its own kid");
            }
            return this;
        }

        /** Adds every key of another set (its signing key only as a verification key). */
        public Builder addAll(KeySet other) {
            other.keys().forEach(this::add);
            return this;
        }

        /** Adds the active signing key; it verifies too. */
        public Builder signingKey(TokenKey key) {
            Objects.requireNonNull(key, "key");
            if (!key.canSign()) {
                throw new ServiceTokenException(ServiceTokenException.Reason.INVALID_KEY, "key '" + key.kid()
                        + "' holds no private key or secret, so it cannot be the signing key");
            }
            if (signingKey != null) {
                throw new ServiceTokenException(ServiceTokenException.Reason.INVALID_SETTING,
                        "a key set has one active signing key; add the previous one with add(key.verifyOnly())");
            }
            add(key);
            signingKey = key;
            return this;
        }

        /** Allows HS256 secrets beside public keys (e.g. a queue's shared key beside peers' EC keys). */
        public Builder allowSecretAndPublicKeys() {
            this.mixed = true;
            return this;
        }

        /**
         * The set.
         *
         * @throws ServiceTokenException if it mixes secrets and public keys without permission
         */
        public KeySet build() {
            boolean secrets = keys.values().stream().anyMatch(TokenKey::isSecret);
            boolean publics = keys.values().stream().anyMatch(key -> !key.isSecret());
            if (secrets && publics && !mixed) {
                throw new ServiceTokenException(ServiceTokenException.Reason.INVALID_SETTING, "the key set mixes"
                        + " HS256 secrets with public keys; keep them apart, or call allowSecretAndPublicKeys()"
                        + " if that is meant");
            }
            return new KeySet(keys, signingKey);
        }
    }

    /** Reads a JWKS strictly (Jackson, duplicate members refused), then lets jjwt build the keys. */
    static final class JwksReader {

        private JwksReader() {
        }

        static KeySet read(String json) {
            Objects.requireNonNull(json, "json");
            JsonNode root;
            try {
                root = TokenJson.strictMapper().readTree(json);
            } catch (JsonProcessingException e) {
                throw invalid("the JWKS is not valid JSON, or repeats a member: " + e.getOriginalMessage());
            }
            if (root == null || !root.isObject() || !root.path("keys").isArray()) {
                throw invalid("a JWKS is a JSON object with a 'keys' array");
            }
            Builder builder = builder();
            int index = 0;
            try {
                for (JsonNode entry : root.get("keys")) {
                    builder.add(readKey(entry, "keys[" + index++ + "]"));
                }
                return builder.build();
            } catch (ServiceTokenException e) {
                if (e.reason() != ServiceTokenException.Reason.INVALID_SETTING) {
                    throw e;
                }
                throw invalid("the JWKS: " + e.getMessage()); // a duplicate kid, or secrets beside public keys
            }
        }

        private static TokenKey readKey(JsonNode entry, String where) {
            if (!entry.isObject()) {
                throw invalid(where + " is not a JSON object");
            }
            String kid = text(entry, "kid", where);
            if (kid == null) {
                throw invalid(where + " has no 'kid'; every key must be addressable");
            }
            where = where + " (kid '" + LogSafe.text(kid) + "')";
            for (String secret : List.of("d", "p", "q", "dp", "dq", "qi")) {
                if (entry.has(secret)) {
                    throw invalid(where + " holds private key material ('" + secret + "'); publish public keys only");
                }
            }
            String use = text(entry, "use", where);
            if (use != null && !use.equals("sig")) {
                throw forbidden(where + " has use '" + LogSafe.text(use) + "'; only 'sig' keys verify tokens");
            }
            if (entry.has("key_ops")) {
                if (!entry.get("key_ops").isArray()) {
                    throw invalid(where + ": 'key_ops' must be an array");
                }
                boolean verify = false;
                for (Iterator<JsonNode> ops = entry.get("key_ops").elements(); ops.hasNext(); ) {
                    verify |= "verify".equals(ops.next().asText());
                }
                if (!verify) {
                    throw forbidden(where + " has key_ops without 'verify'");
                }
            }
            String kty = text(entry, "kty", where);
            TokenAlgorithm expected = "EC".equals(kty) ? TokenAlgorithm.ES256
                    : "OKP".equals(kty) ? TokenAlgorithm.ED25519
                    : "oct".equals(kty) ? TokenAlgorithm.HS256 : null;
            if (expected == null) {
                throw invalid(where + " has kty '" + LogSafe.text(kty)
                        + "'; supported are EC (P-256), OKP (Ed25519) and oct");
            }
            String alg = text(entry, "alg", where);
            if (alg != null && !alg.equals(expected.jwsName())) {
                throw forbidden(where + " has alg '" + LogSafe.text(alg) + "'; a " + LogSafe.text(kty)
                        + " key here must be " + expected.jwsName());
            }
            Jwk<?> jwk;
            try {
                jwk = Jwks.parser().build().parse(entry.toString());
            } catch (RuntimeException e) {
                throw invalid(where + " is not a valid " + kty + " key");
            }
            try {
                if (expected == TokenAlgorithm.HS256) {
                    return TokenKey.hs256(kid, ((SecretKey) jwk.toKey()).getEncoded());
                }
                PublicKey key = (PublicKey) jwk.toKey();
                return expected == TokenAlgorithm.ES256 ? TokenKey.es256(kid, key) : TokenKey.ed25519(kid, key);
            } catch (ServiceTokenException e) {
                throw invalid(where + ": " + e.getMessage());
            } catch (ClassCastException e) {
                throw invalid(where + " does not hold a verification key");
            }
        }

        private static @Nullable String text(JsonNode entry, String member, String where) {
            JsonNode value = entry.get(member);
            if (value == null) {
                return null;
            }
            if (!value.isTextual()) {
                throw invalid(where + ": '" + member + "' must be a string");
            }
            return value.asText();
        }

        private static ServiceTokenException invalid(String message) {
            return new ServiceTokenException(ServiceTokenException.Reason.INVALID_JWKS, message);
        }

        private static ServiceTokenException forbidden(String message) {
            return new ServiceTokenException(ServiceTokenException.Reason.KEY_USE_FORBIDDEN, message);
        }
    }
}
