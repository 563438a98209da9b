package io.settler.zerotrust.testing;

import java.security.Provider;
import java.security.Security;
import java.util.Locale;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.junit.platform.launcher.LauncherSession;
import org.junit.platform.launcher.LauncherSessionListener;

/**
 * Registers Bouncy Castle as a JCA provider, as many applications do, for a whole test run when
 * the system property {@value #PROPERTY} is {@code first} (position 1) or {@code last}; does
 * nothing without it. The build sets it only in the surefire executions that run the handshake
 * and credential tests again with BC registered: the library must not depend on which providers
 * an application registers.
 */
public final class BouncyCastleRegistration implements LauncherSessionListener {

    /** The system property that selects the position. */
    public static final String PROPERTY = "settler.test.bouncycastle";

    private Registration registration;

    /** Where BC goes in the provider list. */
    public enum Position {
        /** Position 1: BC's implementations win every {@code getInstance} without a provider. */
        FIRST,
        /** After the JDK's providers: BC only serves what they lack (e.g. {@code ECDSA} key factories). */
        LAST;

        /**
         * Registers a fresh BC provider at this position (moving one already registered) until
         * {@link Registration#close()}, which restores the previous provider list.
         */
        public Registration register() {
            Provider previous = Security.getProvider(BouncyCastleProvider.PROVIDER_NAME);
            int previousPosition = previous == null ? -1 : positionOf(previous);
            Security.removeProvider(BouncyCastleProvider.PROVIDER_NAME);
            Provider bc = new BouncyCastleProvider();
            if (this == FIRST) {
                Security.insertProviderAt(bc, 1);
            } else {
                Security.addProvider(bc);
            }
            return new Registration(previous, previousPosition);
        }

        private static int positionOf(Provider provider) {
            Provider[] providers = Security.getProviders();
            for (int i = 0; i < providers.length; i++) {
                if (providers[i] == provider) {
                    return i + 1;
                }
            }
            return -1;
        }
    }

    /** A registration to undo. */
    public static final class Registration implements AutoCloseable {
        private final Provider previous;
        private final int previousPosition;

        private Registration(Provider previous, int previousPosition) {
            this.previous = previous;
            this.previousPosition = previousPosition;
        }

        @Override
        public void close() {
            Security.removeProvider(BouncyCastleProvider.PROVIDER_NAME);
            if (previous != null) {
                Security.insertProviderAt(previous, previousPosition);
            }
        }
    }

    @Override
    public void launcherSessionOpened(LauncherSession session) {
        String value = System.getProperty(PROPERTY);
        if (value == null || value.isBlank()) {
            return;
        }
        Position position;
        try {
            position = Position.valueOf(value.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(PROPERTY + " must be 'first' or 'last', not '" + value + "'", e);
        }
        registration = position.register();
    }

    @Override
    public void launcherSessionClosed(LauncherSession session) {
        if (registration != null) {
            registration.close();
            registration = null;
        }
    }
}
