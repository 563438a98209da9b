package io.settler.zerotrust.credentials;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.settler.zerotrust.credentials.CredentialException.Reason;
import java.nio.file.Path;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;

/** Assertions shared by the refusal tests. */
final class Refusals {

    private Refusals() {
    }

    /**
     * Asserts that {@code load} throws a {@link CredentialException} for {@code reason} whose message
     * names {@code file} and holds every fragment.
     */
    static CredentialException assertRefused(ThrowingCallable load, Reason reason, Path file, String... fragments) {
        CredentialException e = catchThrowableOfType(CredentialException.class, load);
        assertThat(e).as("a CredentialException").isNotNull();
        assertThat(e.reason()).as("reason of: " + e.getMessage()).isEqualTo(reason);
        if (file != null) {
            assertThat(e.getMessage()).contains(file.toString());
        }
        if (fragments.length > 0) {
            assertThat(e.getMessage()).contains(fragments);
        }
        return e;
    }

    /** As {@link #assertRefused(ThrowingCallable, Reason, Path, String...)}, for in-memory credentials. */
    static CredentialException assertRefused(ThrowingCallable load, Reason reason, String... fragments) {
        return assertRefused(load, reason, null, fragments);
    }
}
