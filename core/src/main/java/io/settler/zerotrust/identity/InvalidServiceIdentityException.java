package io.settler.zerotrust.identity;

/** A text that is not a valid SPIFFE-style service identity; the message says which rule it breaks. */
public final class InvalidServiceIdentityException extends IllegalArgumentException {

    private static final long serialVersionUID = 1L;

    /** @param message which rule the identity breaks and what a valid one looks like */
    public InvalidServiceIdentityException(String message) {
        super(message);
    }
}
