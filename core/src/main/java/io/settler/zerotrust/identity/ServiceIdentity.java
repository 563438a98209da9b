package io.settler.zerotrust.identity;

import io.settler.zerotrust.audit.LogSafe;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.Optional;

/**
 * A service identity in SPIFFE form, {@code spiffe://<trust-domain>/<path>}, as carried in the
 * URI SAN of a certificate.
 *
 * <p>Parsing follows the SPIFFE ID rules: lower-case {@code spiffe} scheme; a trust domain of
 * lower-case letters, digits, {@code .}, {@code -} and {@code _} with no port or user info; a
 * non-empty path of segments made of letters, digits, {@code .}, {@code -} and {@code _}, with no
 * empty, {@code .} or {@code ..} segment and no trailing slash; no query or fragment; at most
 * 2048 bytes. Anything else is refused with an {@link InvalidServiceIdentityException}, so two
 * equal identities always have the same text.
 *
 * @param trustDomain the trust domain, e.g. {@code prod.example.org}
 * @param path the path without its leading slash, e.g. {@code payments/api}
 */
public record ServiceIdentity(String trustDomain, String path) {

    private static final String PREFIX = "spiffe://";
    private static final int MAX_ID_BYTES = 2048;
    private static final int MAX_TRUST_DOMAIN_LENGTH = 255;

    /** Validates both parts; see the class description for the rules. */
    public ServiceIdentity {
        Objects.requireNonNull(trustDomain, "trustDomain");
        Objects.requireNonNull(path, "path");
        String id = PREFIX + trustDomain + "/" + path;
        Optional<String> broken = trustDomainProblem(trustDomain).or(() -> pathProblem(path));
        if (broken.isEmpty() && id.getBytes(StandardCharsets.UTF_8).length > MAX_ID_BYTES) {
            broken = Optional.of("a SPIFFE ID may be at most " + MAX_ID_BYTES + " bytes long");
        }
        if (broken.isPresent()) {
            throw new InvalidServiceIdentityException(id, broken.get());
        }
    }

    /**
     * Builds an identity from its parts.
     *
     * @param trustDomain the trust domain, e.g. {@code example.org}
     * @param path the path, with or without a leading slash, e.g. {@code api} or {@code /ns/prod/api}
     * @return the identity
     * @throws InvalidServiceIdentityException if either part breaks the SPIFFE ID rules
     */
    public static ServiceIdentity of(String trustDomain, String path) {
        Objects.requireNonNull(path, "path");
        return new ServiceIdentity(trustDomain, path.startsWith("/") ? path.substring(1) : path);
    }

    /**
     * Parses a SPIFFE ID such as {@code spiffe://example.org/api}.
     *
     * @param spiffeId the ID text
     * @return the identity
     * @throws InvalidServiceIdentityException if the text is not a valid SPIFFE ID
     */
    public static ServiceIdentity parse(String spiffeId) {
        Objects.requireNonNull(spiffeId, "spiffeId");
        if (!spiffeId.startsWith(PREFIX)) {
            throw new InvalidServiceIdentityException(spiffeId,
                    "it must start with spiffe:// (lower case), e.g. spiffe://example.org/api");
        }
        String rest = spiffeId.substring(PREFIX.length());
        int slash = rest.indexOf('/');
        if (slash < 0) {
            throw new InvalidServiceIdentityException(spiffeId,
                    "it needs a path after the trust domain, e.g. spiffe://example.org/api");
        }
        return new ServiceIdentity(rest.substring(0, slash), rest.substring(slash + 1));
    }

    /** The service name: the last segment of the path ({@code api} for {@code spiffe://example.org/ns/api}). */
    public String serviceName() {
        return path.substring(path.lastIndexOf('/') + 1);
    }

    /** The identity as a URI, ready for a certificate's subject alternative name. */
    public URI toUri() {
        return URI.create(toString());
    }

    /** The SPIFFE ID text, e.g. {@code spiffe://example.org/api}. */
    @Override
    public String toString() {
        return PREFIX + trustDomain + "/" + path;
    }

    /** Which rule the trust domain breaks, if any. */
    private static Optional<String> trustDomainProblem(String trustDomain) {
        if (trustDomain.isEmpty()) {
            return Optional.of("the trust domain is empty");
        }
        if (trustDomain.length() > MAX_TRUST_DOMAIN_LENGTH) {
            return Optional.of("the trust domain may be at most " + MAX_TRUST_DOMAIN_LENGTH + " characters long");
        }
        for (int i = 0; i < trustDomain.length(); i++) {
            char c = trustDomain.charAt(i);
            if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_')) {
                return Optional.of("the trust domain may hold only lower-case letters, digits, '.', '-' and '_'"
                        + " (no port, user info or upper case); found '" + printable(c) + "'");
            }
        }
        return Optional.empty();
    }

    /** Which rule the path breaks, if any. */
    private static Optional<String> pathProblem(String path) {
        if (path.isEmpty()) {
            return Optional.of("it needs a non-empty path, e.g. spiffe://example.org/api");
        }
        for (String segment : path.split("/", -1)) {
            if (segment.isEmpty()) {
                return Optional.of("the path has an empty segment ('//' or a trailing '/')");
            }
            if (segment.equals(".") || segment.equals("..")) {
                return Optional.of("the path may not hold '.' or '..' segments");
            }
            for (int i = 0; i < segment.length(); i++) {
                char c = segment.charAt(i);
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                        || c == '.' || c == '-' || c == '_')) {
                    return Optional.of("path segments may hold only letters, digits, '.', '-' and '_' (no query,"
                            + " fragment or percent-encoding); found '" + printable(c) + "'");
                }
            }
        }
        return Optional.empty();
    }

    private static String printable(char c) {
        return LogSafe.character(c);
    }
}
