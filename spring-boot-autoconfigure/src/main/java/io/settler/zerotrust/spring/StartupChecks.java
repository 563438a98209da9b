package io.settler.zerotrust.spring;

import io.settler.zerotrust.audit.AuditLog;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.jspecify.annotations.Nullable;
import org.springframework.core.io.Resource;

/**
 * Refuses a start in one statement: records {@link SpringAudit#STARTUP_REFUSED} and hands back the
 * {@link ZeroTrustConfigurationException} to throw; also reads the settings every part requires.
 */
final class StartupChecks {

    private final AuditLog audit;

    StartupChecks(AuditLog audit) {
        this.audit = audit;
    }

    /** Records the refusal and returns the exception to throw. */
    ZeroTrustConfigurationException refuse(ZeroTrustConfigurationException.Reason reason, String setting,
                                           String message, @Nullable Throwable cause) {
        return audit.event(SpringAudit.STARTUP_REFUSED).field("setting", setting)
                .refused(new ZeroTrustConfigurationException(reason, setting, message, cause));
    }

    /** A setting that must be there. */
    <T> T require(@Nullable T value, String setting, String example) {
        if (value == null || (value instanceof String text && text.isBlank())) {
            throw refuse(ZeroTrustConfigurationException.Reason.MISSING_SETTING, setting, setting + " is not set;"
                    + " set it, e.g. " + setting + "=" + example, null);
        }
        return value;
    }

    /** The whole text of a resource a setting names. */
    String read(Resource resource, String setting) {
        try {
            return resource.getContentAsString(StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw refuse(ZeroTrustConfigurationException.Reason.UNREADABLE_FILE, setting, "cannot read "
                    + resource.getDescription() + " (" + e.getMessage() + "): check " + setting
                    + " and that this process may read the file", e);
        }
    }
}
