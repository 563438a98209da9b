package io.settler.zerotrust.audit;

import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * One entry of the audit catalogue: a kind of decision or state change the library records, with
 * its action name, outcome, log level, the fields it carries, and the meter it counts in. Each
 * module declares its entries in one enum ({@code CoreAudit}, {@code TokenAudit},
 * {@code RedisAudit}, ...), so the whole catalogue can be listed for operators
 * ({@code docs/audit-events.md}) and turned into metrics without code per decision. An application
 * can declare its own entries the same way.
 *
 * <p>Record one with {@link AuditLog#event(AuditAction)}.
 */
public interface AuditAction {

    /** This entry's definition. */
    Definition definition();

    /** The action name, dotted lower case, e.g. {@code peer.refused}. */
    default String action() {
        return definition().action();
    }

    /** How the action ends. */
    default AuditEvent.Outcome outcome() {
        return definition().outcome();
    }

    /** Starts a definition: action name, outcome, and the meter it counts in. */
    static Definition.Builder define(String action, AuditEvent.Outcome outcome, String meter) {
        return new Definition.Builder(action, outcome, meter);
    }

    /** How loud an entry is in a log: {@link AuditLog#slf4j()} maps it to the SLF4J level of that name. */
    enum Level {
        /** A routine success on a hot path, such as each verified token: counted, logged only on request. */
        DEBUG,
        /** A state change or a success worth a line, such as an accepted peer or a rotation. */
        INFO,
        /** A refusal or a risk. */
        WARN
    }

    /**
     * What an entry is.
     *
     * @param action dotted lower case, e.g. {@code peer.refused}
     * @param outcome how it ends
     * @param level how loud it is; by default {@code WARN} for refusals and warnings, else {@code INFO}
     * @param meter the name of the counter it counts in, e.g. {@code zerotrust.tls.peers}; several
     *     entries may share one and differ in their {@code action} and {@code outcome} tags
     * @param fields the fields it may carry, in order
     * @param tags the tag keys of its meter: fields whose values come from a small fixed set (reasons,
     *     roles, rule names, identities named by the policy), never addresses, IDs or free text. Entries
     *     that share a meter declare the same tags (a Prometheus metric has one set of labels), so an
     *     entry may name a tag it does not carry; its value is then {@code none}
     * @param description one sentence for operators: when it happens and what to do
     */
    record Definition(String action, AuditEvent.Outcome outcome, Level level, String meter, List<String> fields,
                      List<String> tags, String description) {

        private static final Pattern NAME = Pattern.compile("[a-z][a-z0-9_]*(\\.[a-z][a-z0-9_]*)*");
        private static final Pattern FIELD = Pattern.compile("[a-z][a-z_0-9]*");

        /** Checks the names. */
        public Definition {
            Objects.requireNonNull(outcome, "outcome");
            Objects.requireNonNull(level, "level");
            Objects.requireNonNull(description, "description");
            check(NAME, action, "an audit action is dotted lower case, e.g. peer.refused");
            check(NAME, meter, "a meter name is dotted lower case, e.g. zerotrust.tls.peers");
            fields = List.copyOf(fields);
            tags = List.copyOf(tags);
            fields.forEach(field -> check(FIELD, field, "an audit field name is lower snake case"));
            tags.forEach(tag -> check(FIELD, tag, "a tag is a field name, lower snake case"));
        }

        private static void check(Pattern pattern, String value, String rule) {
            if (!pattern.matcher(Objects.requireNonNull(value, rule)).matches()) {
                throw new IllegalArgumentException(rule + "; got " + value);
            }
        }

        /** Collects a definition; see {@link AuditAction#define}. */
        public static final class Builder {
            private final String action;
            private final AuditEvent.Outcome outcome;
            private final String meter;
            private Level level;
            private List<String> fields = List.of();
            private List<String> tags = List.of();

            private Builder(String action, AuditEvent.Outcome outcome, String meter) {
                this.action = action;
                this.outcome = outcome;
                this.meter = meter;
                this.level = outcome == AuditEvent.Outcome.REFUSED || outcome == AuditEvent.Outcome.WARNING
                        ? Level.WARN : Level.INFO;
            }

            /** The fields the entry may carry, in order. */
            public Builder fields(String... names) {
                this.fields = List.of(names);
                return this;
            }

            /**
             * The tag keys of the meter: low-cardinality fields only, never addresses, tokens or IDs;
             * the same for every entry of one meter.
             */
            public Builder tags(String... names) {
                this.tags = List.of(names);
                return this;
            }

            /** Overrides the level the outcome implies, e.g. {@link Level#DEBUG} for a hot-path success. */
            public Builder level(Level level) {
                this.level = Objects.requireNonNull(level, "level");
                return this;
            }

            /** Completes the definition with its one-sentence description. */
            public Definition describe(String description) {
                return new Definition(action, outcome, level, meter, fields, tags, description);
            }
        }
    }
}
