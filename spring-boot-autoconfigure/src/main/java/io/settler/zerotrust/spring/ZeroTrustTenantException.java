package io.settler.zerotrust.spring;

import io.settler.zerotrust.audit.Refusal;
import java.util.Objects;
import org.springframework.security.access.AccessDeniedException;

/**
 * A tenant transaction was refused before any connection was borrowed: the current request is not
 * authenticated by a service token, or its token carries no tenant claim, so there is no tenant
 * whose rows it could see. An {@link AccessDeniedException}, so Spring Security answers
 * {@code 403} (or {@code 401} without authentication); also a {@code spring.tenant.refused} audit
 * event.
 */
public final class ZeroTrustTenantException extends AccessDeniedException implements Refusal {

    private static final long serialVersionUID = 1L;

    /** Why there is no tenant. */
    public enum Reason {
        /** The transaction does not run for a request authenticated by a service token (ZeroTrustAuthentication). */
        NOT_AUTHENTICATED,
        /** The caller's service token carries no tenant claim (the claim {@code zerotrust.postgres.tenant-claim}). */
        NO_TENANT_CLAIM
    }

    private final Reason reason;

    ZeroTrustTenantException(Reason reason, String message) {
        super(message);
        this.reason = Objects.requireNonNull(reason, "reason");
    }

    @Override
    public Reason reason() {
        return reason;
    }
}
