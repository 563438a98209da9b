package io.settler.zerotrust.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The demo's scenario runs in CI: every allowed step succeeds and every attack is refused. */
class DemoIT {

    private static final List<String> EXPECTED = List.of(
            "\u2714 the gateway creates an order for tenant acme",
            "\u2714 the worker verifies the job and records its result",
            "\u2714 the webhook reaches the receiver with a valid signature",
            "\u2714 the gateway reads the order back for acme",
            "\u2714 plaintext HTTP client: refused",
            "\u2714 TLS 1.2 client (with the gateway's certificate): refused",
            "\u2714 client without a certificate: refused",
            "\u2714 wrong identity: the worker's valid certificate calling the API: refused",
            "\u2714 a certificate for the gateway's name from another CA: refused",
            "\u2714 missing service token: refused (HTTP 401",
            "\u2714 insufficient scope: an orders:read token creating an order: refused (HTTP 403",
            "\u2714 cross-tenant read: tenant globex reading acme's order: refused (HTTP 404",
            "\u2714 forged queue message: the api's stolen Redis password, but not its signing key: refused",
            "\u2714 the worker's Redis user publishing a job: refused",
            "\u2714 plaintext Redis client: refused",
            "\u2714 plaintext PostgreSQL client (sslmode=disable): refused",
            "\u2714 the api's certificate logging in to PostgreSQL as the worker: refused",
            "All expectations held.");

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
        assertThat(report).contains(EXPECTED).doesNotContain("\u2718");
    }
}
