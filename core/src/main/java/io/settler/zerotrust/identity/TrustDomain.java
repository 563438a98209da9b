package io.settler.zerotrust.identity;

import io.settler.zerotrust.audit.LogSafe;
import java.util.Objects;
import java.util.Optional;

/**
 * A SPIFFE trust domain, e.g. {@code prod.example.org}: the authority part of a
 * {@link ServiceIdentity}, and the unit a trust bundle and an issuer set belong to.
 *
 * <p>Follows the SPIFFE ID rules: one to 255 characters, each a lower-case letter, a digit,
 * {@code .}, {@code -} or {@code _}; so no scheme, port, user info, path or upper case. Anything
 * else is refused with an {@link InvalidServiceIdentityException} that shows the refused text,
 * escaped, so two equal trust domains always have the same text.
 *
 * @param name the trust domain name, e.g. {@code example.org}
 */
public record TrustDomain(String name) {

    private static final int MAX_LENGTH = 255;

    /**
     * Validates the name; see the class description for the rules.
     *
     * @throws InvalidServiceIdentityException if the name breaks them
     */
    public TrustDomain {
        Objects.requireNonNull(name, "name");
        Optional<String> broken = problem(name);
        if (broken.isPresent()) {
            throw new InvalidServiceIdentityException("'" + LogSafe.text(name) + "' is not a SPIFFE trust domain: "
                    + broken.get());
        }
    }

    /**
     * The trust domain with this name.
     *
     * @param name the name, e.g. {@code example.org} (not {@code spiffe://example.org})
     * @return the trust domain
     * @throws InvalidServiceIdentityException if the name breaks the SPIFFE rules
     */
    public static TrustDomain of(String name) {
        return new TrustDomain(name);
    }

    /**
     * The identity with this trust domain and {@code path}.
     *
     * @param path the path, with or without a leading slash, e.g. {@code api} or {@code ns/prod/api}
     * @return the identity, e.g. {@code spiffe://example.org/api}
     * @throws InvalidServiceIdentityException if the path breaks the SPIFFE ID rules
     */
    public ServiceIdentity identity(String path) {
        return ServiceIdentity.of(this, path);
    }

    /** The name, e.g. {@code example.org}, so the trust domain reads as itself in text. */
    @Override
    public String toString() {
        return name;
    }

    /** Which rule {@code name} breaks, if any. */
    static Optional<String> problem(String name) {
        if (name.isEmpty()) {
            return Optional.of("the trust domain is empty");
        }
        if (name.length() > MAX_LENGTH) {
            return Optional.of("the trust domain may be at most " + MAX_LENGTH + " characters long");
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_')) {
                return Optional.of("the trust domain may hold only lower-case letters, digits, '.', '-' and '_'"
                        + " (no scheme, port, user info or upper case); found '" + LogSafe.character(c) + "'");
            }
        }
        return Optional.empty();
    }
}
