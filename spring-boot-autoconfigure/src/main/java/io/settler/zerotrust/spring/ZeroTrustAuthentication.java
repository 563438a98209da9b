package io.settler.zerotrust.spring;

import io.settler.zerotrust.identity.ServiceIdentity;
import io.settler.zerotrust.token.VerifiedToken;
import java.util.List;
import java.util.Objects;
import org.springframework.security.authentication.AbstractAuthenticationToken;
import org.springframework.security.core.GrantedAuthority;
import org.springframework.security.core.authority.SimpleGrantedAuthority;

/**
 * A request authenticated by a service token of the connection's own certificate identity: the
 * principal is the calling service's {@link ServiceIdentity}, the authorities are its token's
 * scopes as {@code SCOPE_<scope>} (so {@code hasAuthority('SCOPE_orders:write')} works), and the
 * details are the {@link VerifiedToken}. The token text itself is not kept.
 */
public final class ZeroTrustAuthentication extends AbstractAuthenticationToken {

    private static final long serialVersionUID = 1L;
    /** The prefix of each scope's authority, as Spring Security's OAuth2 resource server uses. */
    public static final String SCOPE_PREFIX = "SCOPE_";

    // Spring Security's Authentication is Serializable for sessions; this one is never stored in one (the chain
    // is stateless) and its values are not serializable: JDK 25's javac warns on such fields.
    @SuppressWarnings("serial")
    private final ServiceIdentity service;
    @SuppressWarnings("serial")
    private final VerifiedToken token;

    ZeroTrustAuthentication(VerifiedToken token) {
        super(authorities(token));
        this.token = Objects.requireNonNull(token, "token");
        this.service = token.service();
        setAuthenticated(true);
    }

    private static List<GrantedAuthority> authorities(VerifiedToken token) {
        return token.scopes().stream()
                .<GrantedAuthority>map(scope -> new SimpleGrantedAuthority(SCOPE_PREFIX + scope)).toList();
    }

    /** The calling service, proven by its certificate and its token alike. */
    @Override
    public ServiceIdentity getPrincipal() {
        return service;
    }

    /** Nothing: the token is not kept once verified. */
    @Override
    public Object getCredentials() {
        return "";
    }

    /** The verified token: scopes, claims (e.g. a tenant), expiry. */
    public VerifiedToken token() {
        return token;
    }

    @Override
    public String getName() {
        return service.toString();
    }
}
