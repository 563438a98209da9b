package io.settler.zerotrust.token;

import java.util.Optional;

/**
 * The service token of an HTTP {@code Authorization} header value: {@code Bearer <token>} (RFC 6750,
 * the scheme in any case, one space, the token in b64token syntax). One parser for every server
 * integration of the library (Netty, Spring), so they accept and refuse the same headers.
 */
public final class BearerToken {

    /** The authentication scheme, also the value of {@code WWW-Authenticate} on a refusal. */
    public static final String SCHEME = "Bearer";

    private BearerToken() {
    }

    /**
     * The token of one {@code Authorization} header value.
     *
     * @param authorization the header's value
     * @return the token, or empty if the value is not exactly {@code Bearer <b64token>} (another
     *     scheme, no or several spaces, a comma, characters outside b64token, padding only)
     */
    public static Optional<String> fromAuthorization(String authorization) {
        int space = SCHEME.length();
        if (authorization.length() <= space + 1 || authorization.charAt(space) != ' '
                || !authorization.regionMatches(true, 0, SCHEME, 0, space)) {
            return Optional.empty();
        }
        int end = authorization.length();
        while (end > space + 2 && authorization.charAt(end - 1) == '=') {
            end--;
        }
        for (int i = space + 1; i < end; i++) {
            char c = authorization.charAt(i);
            boolean allowed = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
                    || c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/';
            if (!allowed) {
                return Optional.empty();
            }
        }
        return Optional.of(authorization.substring(space + 1));
    }
}
