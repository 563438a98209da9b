package io.settler.zerotrust.identity;

import io.settler.zerotrust.audit.LogSafe;

/**
 * A text that is not a valid SPIFFE-style service identity; the message shows the refused text
 * (escaped with {@link LogSafe}) and says which rule it breaks.
 */
public final class InvalidServiceIdentityException extends IllegalArgumentException {

    private static final long serialVersionUID = 1L;

    /** @param message which rule the identity breaks and what a valid one looks like */
    public InvalidServiceIdentityException(String message) {
        super(message);
    }

    /**
     * @param value the refused text, as given (escaped and cut here)
     * @param rule which rule it breaks and what a valid one looks like
     */
    public InvalidServiceIdentityException(String value, String rule) {
        super("'" + LogSafe.text(value) + "' is not a SPIFFE ID: " + rule);
    }
}
