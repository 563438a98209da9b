package io.settler.zerotrust.identity;

import io.settler.zerotrust.audit.Refusal;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * A certificate whose subject alternative names claim a SPIFFE identity in a way
 * {@link ServiceIdentity#fromCertificate} refuses; the message says which rule it breaks and
 * how to reissue the certificate. Callers add which certificate it was.
 */
public final class CertificateIdentityException extends IllegalArgumentException implements Refusal {

    private static final long serialVersionUID = 1L;

    /** Why the certificate's identity was refused. */
    public enum Reason {
        /** The subject alternative name extension cannot be parsed. */
        UNREADABLE_NAMES,
        /** A {@code spiffe:} URI SAN next to other URI SANs (another SPIFFE ID or any URI). */
        SEVERAL_URI_NAMES,
        /** The one {@code spiffe:} URI SAN is not a valid SPIFFE ID (upper-case scheme included). */
        INVALID_SPIFFE_ID
    }

    private final Reason reason;

    /**
     * @param reason which rule the certificate breaks
     * @param message what is wrong and what to fix
     * @param cause the underlying failure, if any
     */
    public CertificateIdentityException(Reason reason, String message, @Nullable Throwable cause) {
        super(message, cause);
        this.reason = Objects.requireNonNull(reason, "reason");
    }

    /** Which rule the certificate breaks. */
    @Override
    public Reason reason() {
        return reason;
    }
}
