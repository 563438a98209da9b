package io.settler.zerotrust.cli;

import static io.settler.zerotrust.cli.ZtRun.inProcess;
import static io.settler.zerotrust.cli.ZtRun.process;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PolicyCommandTest {

    static final String POLICY = """
            {
              "trustDomain": "example.org",
              "services": {
                "gateway": {"scopes": ["orders:read", "orders:write"]},
                "api": {
                  "scopes": ["db:read", "db:write", "redis:api:write"],
                  "accepts": [{"service": "gateway", "networks": ["10.0.0.0/8"]}]
                },
                "reporting": {"scopes": ["orders:read"]},
                "orders-db": {"accepts": [{"service": "api"}]}
              }
            }
            """;

    @TempDir
    Path dir;

    private Path policy() throws Exception {
        return Files.writeString(dir.resolve("policy.json"), POLICY);
    }

    @Test
    void checkListsTheServicesOfAValidPolicy() throws Exception {
        ZtRun.Result result = process("policy", "check", policy());
        assertThat(result.exit()).as(result.toString()).isZero();
        assertThat(result.out()).contains("valid: trust domain example.org, 4 service(s)")
                .contains("api (spiffe://example.org/api)");
    }

    @Test
    void checkRefusesAnInvalidPolicyWithTheLoadersReason() throws Exception {
        Path invalid = Files.writeString(dir.resolve("bad.json"), POLICY.replace("\"scopes\": [\"orders:read\"]",
                "\"scopse\": [\"orders:read\"]"));
        ZtRun.Result result = inProcess("policy", "check", invalid);
        assertThat(result.exit()).as(result.toString()).isEqualTo(1);
        assertThat(result.out()).startsWith("INVALID UNKNOWN_FIELD: ").contains("scopse");
        Path unknownService = Files.writeString(dir.resolve("unknown.json"), POLICY.replace("{\"service\": \"api\"}",
                "{\"service\": \"ap\"}"));
        ZtRun.Result unknown = inProcess("policy", "check", unknownService);
        assertThat(unknown.exit()).as(unknown.toString()).isEqualTo(1);
        assertThat(unknown.out()).startsWith("INVALID UNKNOWN_SERVICE: ");
    }

    @Test
    void explainNamesTheRuleThatAllowsACall() throws Exception {
        ZtRun.Result result = process("policy", "explain", policy(), "--from", "gateway", "--to", "api",
                "--network", "10.0.0.5", "--scope", "orders:write");
        assertThat(result.exit()).as(result.toString()).isZero();
        assertThat(result.out()).startsWith("ALLOWED gateway (spiffe://example.org/gateway) -> api from 10.0.0.5: by"
                + " the rule ").contains("scope orders:write: granted to gateway");
    }

    @Test
    void explainRefusesACallerTheTargetDoesNotAccept() throws Exception {
        ZtRun.Result result = inProcess("policy", "explain", policy(), "--from", "reporting", "--to", "api",
                "--network", "10.0.0.5");
        assertThat(result.exit()).as(result.toString()).isEqualTo(1);
        assertThat(result.out()).startsWith("REFUSED reporting").contains("matches no rule");
    }

    @Test
    void explainRefusesACallFromOutsideTheRulesNetworks() throws Exception {
        ZtRun.Result result = inProcess("policy", "explain", policy(), "--from", "gateway", "--to", "api",
                "--network", "192.0.2.1");
        assertThat(result.exit()).as(result.toString()).isEqualTo(1);
        assertThat(result.out()).startsWith("REFUSED gateway");
    }

    @Test
    void explainRefusesAScopeThePolicyDoesNotGrant() throws Exception {
        ZtRun.Result result = inProcess("policy", "explain", policy(), "--from", "api", "--to", "orders-db",
                "--scope", "db:admin");
        assertThat(result.exit()).as(result.toString()).isEqualTo(1);
        assertThat(result.out()).startsWith("ALLOWED api").contains("scope db:admin: REFUSED");
    }

    @Test
    void explainRefusesACallToAServiceThatAcceptsNoOne() throws Exception {
        ZtRun.Result result = inProcess("policy", "explain", policy(), "--from", "api", "--to", "gateway");
        assertThat(result.exit()).as(result.toString()).isEqualTo(1);
        assertThat(result.out()).startsWith("REFUSED api").contains("accepts no peers");
    }

    @Test
    void usageErrorsExitTwo() throws Exception {
        ZtRun.Result unknown = inProcess("policy", "explain", policy(), "--from", "nobody", "--to", "api");
        assertThat(unknown.exit()).as(unknown.toString()).isEqualTo(2);
        assertThat(unknown.err().strip()).doesNotContain("\n").contains("--from nobody: the policy has no such"
                + " service");
        ZtRun.Result missingTo = inProcess("policy", "explain", policy(), "--from", "gateway");
        assertThat(missingTo.exit()).as(missingTo.toString()).isEqualTo(2);
        assertThat(missingTo.err()).contains("--to");
        ZtRun.Result badNetwork = inProcess("policy", "explain", policy(), "--from", "gateway", "--to", "api",
                "--network", "gateway.internal");
        assertThat(badNetwork.exit()).as(badNetwork.toString()).isEqualTo(2);
        ZtRun.Result unknownCommand = inProcess("policy", "frobnicate");
        assertThat(unknownCommand.exit()).as(unknownCommand.toString()).isEqualTo(2);
    }
}
