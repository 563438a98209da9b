package io.settler.zerotrust.spring;

import io.settler.zerotrust.audit.Refusal;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * A {@code zerotrust.*} or {@code server.*} setting, or a bean the settings need, that is missing
 * or would run the service insecurely: the application does not start. The message names the
 * setting and what to write; {@link ZeroTrustFailureAnalyzer} shows it as Boot's "APPLICATION FAILED
 * TO START" report. Each is also recorded as a {@code spring.startup.refused} audit event.
 */
public final class ZeroTrustConfigurationException extends RuntimeException implements Refusal {

    private static final long serialVersionUID = 1L;

    /** What is wrong with the configuration. */
    public enum Reason {
        /** A required setting is absent: the service, the policy, a credential file, the token issuers. */
        MISSING_SETTING,
        /** A file named by a setting cannot be read or does not hold what it should. */
        UNREADABLE_FILE,
        /** The policy is invalid. */
        INVALID_POLICY,
        /** The credentials are invalid: key and certificate apart, another CA, expired. */
        INVALID_CREDENTIALS,
        /** {@code zerotrust.service} names no service of the policy, or one that accepts no peers. */
        UNKNOWN_SERVICE,
        /** The certificate proves another identity than the policy gives {@code zerotrust.service}. */
        IDENTITY_MISMATCH,
        /** The embedded server would accept plaintext connections. */
        PLAINTEXT_SERVER,
        /** A client would call a plaintext ({@code http}) URL. */
        PLAINTEXT_CLIENT,
        /** The embedded server would not require a client certificate. */
        CLIENT_AUTH_NOT_REQUIRED,
        /**
         * The PostgreSQL (or Redis) client would be insecure, or its server failed the library's start-up
         * proof; the cause says which rule.
         */
        INSECURE_DATA_STORE,
        /** {@code server.ssl.*} would configure the server's TLS beside, and around, the library. */
        CONFLICTING_SERVER_SSL,
        /**
         * The policy does not let {@code zerotrust.service} publish to ({@code queue:<q>:publish}) or consume
         * ({@code queue:<q>:consume}) the queue a {@code zerotrust.queue.*} setting names.
         */
        QUEUE_NOT_GRANTED,
        /** A {@code zerotrust.queue.*} value the queue refuses: a message lifetime or lease out of range. */
        INVALID_QUEUE_SETTING,
        /** The application runs on a Spring Boot version the starter does not support (before 4.0). */
        UNSUPPORTED_SPRING_BOOT
    }

    private final Reason reason;
    private final String setting;

    /**
     * A refused configuration.
     *
     * @param reason what is wrong
     * @param setting the property to fix, e.g. {@code zerotrust.credentials.key}
     * @param message what is wrong and what to write instead
     * @param cause what the library reported, if anything
     */
    public ZeroTrustConfigurationException(Reason reason, String setting, String message, @Nullable Throwable cause) {
        super(message, cause);
        this.reason = Objects.requireNonNull(reason, "reason");
        this.setting = Objects.requireNonNull(setting, "setting");
    }

    @Override
    public Reason reason() {
        return reason;
    }

    /** The property to fix, e.g. {@code zerotrust.credentials.key}. */
    public String setting() {
        return setting;
    }
}
