package io.settler.zerotrust.audit;

import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.event.Level;
import org.slf4j.spi.LoggingEventBuilder;

/** Writes each event as one SLF4J event with key-value pairs, at its catalogue entry's level. */
final class Slf4jAuditLog implements AuditLog {

    static final String LOGGER_NAME = "io.settler.zerotrust.audit";
    static final Slf4jAuditLog INSTANCE = new Slf4jAuditLog();

    private final Logger logger = LoggerFactory.getLogger(LOGGER_NAME);

    private Slf4jAuditLog() {
    }

    @Override
    public boolean records(AuditAction action) {
        return logger.isEnabledForLevel(level(action));
    }

    @Override
    public void record(AuditEvent event) {
        Level level = level(event.kind());
        if (!logger.isEnabledForLevel(level)) {
            return;
        }
        LoggingEventBuilder builder = logger.atLevel(level)
                .addKeyValue("action", event.action())
                .addKeyValue("outcome", event.outcome());
        // SLF4J's builder is @CheckReturnValue: a backend may return a new builder, so keep the result.
        for (Map.Entry<String, String> field : event.fields().entrySet()) {
            builder = builder.addKeyValue(field.getKey(), field.getValue());
        }
        if (event.authenticatedPeer()) {
            builder = builder.addKeyValue("authenticated_peer", true);
        }
        builder.log("{} {}", event.action(), event.outcome());
    }

    private static Level level(AuditAction action) {
        return switch (action.definition().level()) {
            case DEBUG -> Level.DEBUG;
            case INFO -> Level.INFO;
            case WARN -> Level.WARN;
        };
    }
}
