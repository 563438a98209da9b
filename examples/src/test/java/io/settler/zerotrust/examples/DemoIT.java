package io.settler.zerotrust.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The demo's scenario runs in CI: every allowed step succeeds and every attack is refused. */
class DemoIT {

    private static final List<String> ACCEPTED = List.of(
            "the gateway creates an order for tenant acme",
            "the worker verifies the job and records its result",
            "the webhook reaches the receiver with a valid signature",
            "the gateway reads the order back for acme");

    /** Each attack, and what in its line shows that the control meant for it refused it (a regex). */
    private static final Map<String, String> REFUSED = orderedMap(
            "plaintext HTTP client", "audit peer.refused HANDSHAKE_FAILED",
            "TLS 1.2 client (with the gateway's certificate)", "audit peer.refused PROTOCOL_VERSION",
            "client without a certificate", "audit peer.refused NO_CERTIFICATE",
            "wrong identity: the worker's valid certificate calling the API", "audit peer.refused NOT_AUTHORIZED",
            "a certificate for the gateway's name from another CA", "audit peer.refused BAD_SIGNATURE",
            "missing service token", "HTTP 401; audit request.refused MISSING_TOKEN",
            "insufficient scope: an orders:read token creating an order",
            "HTTP 403; audit request.refused INSUFFICIENT_SCOPE",
            "cross-tenant read: tenant globex reading acme's order", "HTTP 404",
            "forged queue message: the api's stolen Redis password, but not its signing key",
            "dead-lettered, never handled; audit queue.dead_lettered FORGED",
            "the worker's Redis user publishing a job", "NOPERM",
            "plaintext Redis client", "Connection reset|closed the connection without an answer|a TLS record",
            "plaintext PostgreSQL client (sslmode=disable)", "pg_hba.conf rejects connection",
            "the api's certificate logging in to PostgreSQL as the worker", "certificate authentication failed");

    @Test
    void everyExpectationHoldsWithTheEmbeddedServers() throws Exception {
        assertReport(Optional.empty());
    }

    @Test
    void everyExpectationHoldsWithServersItDidNotStart(@TempDir Path directory) throws Exception {
        try (LocalZone external = LocalZone.start(directory, line -> { })) {
            assertReport(Optional.of(external.deployment().directory()));
        }
    }

    private static void assertReport(Optional<Path> deployment) throws Exception {
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        List<String> failures = Demo.runScenario(new PrintStream(printed, true, StandardCharsets.UTF_8), deployment);
        String report = printed.toString(StandardCharsets.UTF_8);
        System.out.println(report);

        assertThat(failures).as("expectations that failed").isEmpty();
        assertThat(report).doesNotContain("\u2718").contains("All expectations held.");
        assertThat(report).contains("Decisions counted by zerotrust-micrometer")
                .containsPattern("zerotrust\\.tls\\.peers +action=peer\\.refused outcome=REFUSED"
                        + " reason=NOT_AUTHORIZED role=client +[1-9]")
                .containsPattern("zerotrust\\.netty\\.requests +action=request\\.refused outcome=REFUSED"
                        + " reason=INSUFFICIENT_SCOPE +[1-9]");
        List<String> lines = report.lines().map(String::strip).toList();
        ACCEPTED.forEach(what -> assertThat(lines).anyMatch(line -> line.startsWith("\u2714 " + what)));
        REFUSED.forEach((what, evidence) -> assertThat(lines).as(what)
                .anySatisfy(line -> assertThat(line).startsWith("\u2714 " + what + ": refused (")
                        .containsPattern(evidence)));
    }

    private static Map<String, String> orderedMap(String... pairs) {
        Map<String, String> map = new LinkedHashMap<>();
        for (int i = 0; i < pairs.length; i += 2) {
            map.put(pairs[i], pairs[i + 1]);
        }
        return map;
    }
}
