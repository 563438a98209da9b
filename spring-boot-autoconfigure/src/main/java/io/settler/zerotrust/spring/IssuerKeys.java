package io.settler.zerotrust.spring;

import io.settler.zerotrust.identity.ServiceIdentity;
import io.settler.zerotrust.policy.Policy;
import io.settler.zerotrust.policy.ServicePolicy;
import io.settler.zerotrust.token.KeySet;
import io.settler.zerotrust.token.ServiceTokenException;
import io.settler.zerotrust.token.ServiceTokens;
import java.util.Map;
import org.springframework.core.io.Resource;

/**
 * The published token keys of services named as in the policy ({@code <prefix>.<service>.jwks}), each
 * pinned to its service: the token issuers a service accepts, the publishers a queue worker trusts.
 */
final class IssuerKeys {

    private IssuerKeys() {
    }

    /**
     * Reads every issuer's JWK Set, pins its keys to the issuer's identity and makes {@code tokens}
     * trust the issuers and verify with those keys.
     *
     * @param prefix the map's property, e.g. {@code zerotrust.tokens.issuers}, named in refusals
     */
    static ServiceTokens.Builder trust(ServiceTokens.Builder tokens, Map<String, ZeroTrustProperties.Issuer> issuers,
                                       String prefix, Policy policy, StartupChecks checks) {
        KeySet.Builder keys = KeySet.builder();
        issuers.forEach((name, issuer) -> {
            String setting = prefix + "." + name + ".jwks";
            ServiceIdentity identity = policy.service(name).map(ServicePolicy::identity)
                    .orElseThrow(() -> checks.refuse(ZeroTrustConfigurationException.Reason.UNKNOWN_SERVICE,
                            prefix, "the policy has no service '" + name
                                    + "' to trust tokens of; name issuers as the policy does", null));
            Resource jwks = checks.require(issuer.jwks(), setting,
                    "file:/etc/zerotrust/jwks/" + name + ".json");
            try {
                keys.addAll(KeySet.fromJwks(checks.read(jwks, setting)).pinnedTo(identity));
            } catch (ServiceTokenException e) {
                throw checks.refuse(ZeroTrustConfigurationException.Reason.UNREADABLE_FILE, setting,
                        jwks.getDescription() + " is not a usable JWK Set: " + e.getMessage(), e);
            }
            tokens.trustIssuers(identity);
        });
        return tokens.verificationKeys(keys.build());
    }
}
