package io.settler.zerotrust.tls;

import java.net.Socket;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECKey;
import java.security.interfaces.EdECKey;
import java.security.interfaces.RSAKey;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedKeyManager;
import org.jspecify.annotations.Nullable;

/**
 * A key manager that always presents the current credential snapshot, and that cannot pair one
 * snapshot's chain with another's key.
 *
 * <p>The JDK asks for an alias, then for the chain and the key in separate calls; a rotation in
 * between would otherwise pair an old chain with a new key. Each snapshot is served under its own
 * alias ({@code settler-<generation>}), and chain and key are looked up by that alias, so a
 * handshake uses one snapshot from start to end. The last {@value #REMEMBERED} snapshots handed
 * out stay resolvable, so a handshake that chose its alias before one or more swaps still
 * completes. OpenSSL-based providers that cache key material per alias also see a new alias after
 * each rotation.
 */
final class SnapshotKeyManager extends X509ExtendedKeyManager {

    private static final String PREFIX = "settler-";

    /** One immutable set of key material with the generation that names its alias. */
    @SuppressWarnings("ArrayRecordComponent") // never compared; getCertificateChain hands out copies
    record KeyMaterial(long generation, PrivateKey key, X509Certificate[] chain) {
        String alias() {
            return PREFIX + generation;
        }
    }

    private static final int REMEMBERED = 16;

    private final Supplier<KeyMaterial> current;
    /** Key material by alias, for every alias recently handed out; oldest evicted first. */
    private final Map<String, KeyMaterial> handedOut = Collections.synchronizedMap(
            new LinkedHashMap<>(REMEMBERED * 2) {
                @Override
                protected boolean removeEldestEntry(Map.Entry<String, KeyMaterial> eldest) {
                    return size() > REMEMBERED;
                }
            });

    /** @param current the key material of the current snapshot; the same instance until a rotation */
    SnapshotKeyManager(Supplier<KeyMaterial> current) {
        this.current = current;
    }

    private Optional<KeyMaterial> byAlias(String alias) {
        return alias == null ? Optional.empty() : Optional.ofNullable(handedOut.get(alias));
    }

    /**
     * The current alias when its key suits the key type the handshake asks for ({@code EC},
     * {@code RSA}, {@code EdDSA}, or TLS 1.2's {@code EC_RSA} form), else none, so the JDK moves
     * on to a signature scheme our key can make.
     */
    private @Nullable String aliasFor(String... keyTypes) {
        KeyMaterial now = current.get();
        String ours = keyTypeOf(now.key());
        for (String keyType : keyTypes) {
            if (keyType == null) {
                continue;
            }
            int underscore = keyType.indexOf('_');
            if ((underscore < 0 ? keyType : keyType.substring(0, underscore)).equalsIgnoreCase(ours)) {
                handedOut.putIfAbsent(now.alias(), now);
                return now.alias();
            }
        }
        return null;
    }

    /**
     * The JSSE key type of {@code key}, from what the key is rather than the name its provider
     * gave it: Bouncy Castle, registered as a provider, names its EC keys {@code ECDSA}, and a
     * provider may call Ed25519 keys {@code Ed25519} or {@code EdDSA}.
     */
    static String keyTypeOf(PrivateKey key) {
        if (key instanceof ECKey) {
            return "EC";
        }
        if (key instanceof EdECKey) {
            return "EdDSA";
        }
        String algorithm = key.getAlgorithm();
        if (key instanceof RSAKey && !"RSASSA-PSS".equalsIgnoreCase(algorithm)) {
            return "RSA";
        }
        // A key without these interfaces (in a hardware token, say): its provider's name.
        return switch (algorithm == null ? "" : algorithm.toUpperCase(Locale.ROOT)) {
            case "ECDSA", "EC" -> "EC";
            case "ED25519", "EDDSA" -> "EdDSA";
            default -> algorithm;
        };
    }

    private String @Nullable [] aliasesFor(String keyType) {
        String alias = aliasFor(keyType);
        return alias == null ? null : new String[] {alias};
    }

    @Override
    public String @Nullable [] getClientAliases(String keyType, Principal @Nullable [] issuers) {
        return aliasesFor(keyType);
    }

    @Override
    public @Nullable String chooseClientAlias(String[] keyTypes, Principal @Nullable [] issuers,
            @Nullable Socket socket) {
        return aliasFor(keyTypes);
    }

    @Override
    public @Nullable String chooseEngineClientAlias(String[] keyTypes, Principal @Nullable [] issuers,
            @Nullable SSLEngine engine) {
        return aliasFor(keyTypes);
    }

    @Override
    public String @Nullable [] getServerAliases(String keyType, Principal @Nullable [] issuers) {
        return aliasesFor(keyType);
    }

    @Override
    public @Nullable String chooseServerAlias(String keyType, Principal @Nullable [] issuers, @Nullable Socket socket) {
        return aliasFor(keyType);
    }

    @Override
    public @Nullable String chooseEngineServerAlias(String keyType, Principal @Nullable [] issuers,
            @Nullable SSLEngine engine) {
        return aliasFor(keyType);
    }

    @Override
    public X509Certificate @Nullable [] getCertificateChain(String alias) {
        return byAlias(alias).map(m -> m.chain().clone()).orElse(null);
    }

    @Override
    public @Nullable PrivateKey getPrivateKey(String alias) {
        return byAlias(alias).map(KeyMaterial::key).orElse(null);
    }
}
