package io.settler.zerotrust.spring;

import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;

/**
 * Shows a {@link ZeroTrustConfigurationException} as Boot's start-up failure report: what is wrong,
 * and which property to set or remove.
 */
public final class ZeroTrustFailureAnalyzer extends AbstractFailureAnalyzer<ZeroTrustConfigurationException> {

    /** Registered in {@code META-INF/spring.factories}. */
    public ZeroTrustFailureAnalyzer() {
        // instantiated by Boot's SpringFactoriesLoader
    }

    @Override
    protected FailureAnalysis analyze(Throwable rootFailure, ZeroTrustConfigurationException cause) {
        return new FailureAnalysis("Zero trust refused to start the service (" + cause.reason() + "): "
                + cause.getMessage(), "Fix '" + cause.setting() + "'. The service does not start without a secure"
                + " configuration; there is no fallback.", cause);
    }
}
