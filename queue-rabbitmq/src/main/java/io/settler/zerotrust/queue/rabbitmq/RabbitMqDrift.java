package io.settler.zerotrust.queue.rabbitmq;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * How a live RabbitMQ broker differs from what {@link RabbitMqBrokerConfig} renders: one
 * {@link Finding} per difference, from its exported definitions ({@link RabbitMqBrokerConfig#drift})
 * and from probing its TLS listener ({@link RabbitMqBrokerConfig#probeListener}). Immutable.
 *
 * @param findings the differences, in a stable order; empty when in sync
 */
public record RabbitMqDrift(List<Finding> findings) {

    /** What kind of difference. */
    public enum Kind {
        /** The rendered virtual host is missing. */
        MISSING_VHOST,
        /** A virtual host the policy does not render (e.g. {@code /}). */
        UNEXPECTED_VHOST,
        /** A user of the policy is missing. */
        MISSING_USER,
        /** A user the policy does not have (e.g. {@code guest}, or one added by hand). */
        UNEXPECTED_USER,
        /** A user has a password or tags: it could log in without a certificate, or administer. */
        USER_DIFFERS,
        /** A rendered permission is missing. */
        MISSING_PERMISSION,
        /** A permission the policy does not render. */
        UNEXPECTED_PERMISSION,
        /** A permission's configure, write or read pattern differs. */
        PERMISSION_DIFFERS,
        /** A topic permission, where the policy renders none. */
        UNEXPECTED_TOPIC_PERMISSION,
        /** A rendered queue, exchange or binding is missing. */
        MISSING_TOPOLOGY,
        /** A queue, exchange or binding the policy does not render (e.g. a binding that copies jobs). */
        UNEXPECTED_TOPOLOGY,
        /** A queue's or exchange's type, durability or arguments differ. */
        TOPOLOGY_DIFFERS,
        /** The live TLS listener accepts what the rendered one refuses (TLS 1.2, no client certificate, a password). */
        LISTENER_WEAKER
    }

    /**
     * One difference.
     *
     * @param kind what kind
     * @param subject what differs, e.g. {@code user spiffe://example.org/api}
     * @param detail the difference and what to do about it
     */
    public record Finding(Kind kind, String subject, String detail) {
        /** Checks the fields. */
        public Finding {
            Objects.requireNonNull(kind, "kind");
            Objects.requireNonNull(subject, "subject");
            Objects.requireNonNull(detail, "detail");
        }

        /** One sentence: {@code <subject>: <detail>}. */
        @Override
        public String toString() {
            return subject + ": " + detail;
        }
    }

    /** Copies. */
    public RabbitMqDrift {
        findings = List.copyOf(findings);
    }

    /** Whether nothing differs. */
    public boolean inSync() {
        return findings.isEmpty();
    }

    /** The findings of this check and then {@code other}'s (e.g. definitions, then the listener). */
    public RabbitMqDrift and(RabbitMqDrift other) {
        List<Finding> all = new ArrayList<>(findings);
        all.addAll(other.findings);
        return new RabbitMqDrift(all);
    }

    /** The findings of one kind. */
    public List<Finding> findings(Kind kind) {
        return findings.stream().filter(finding -> finding.kind() == kind).toList();
    }
}
