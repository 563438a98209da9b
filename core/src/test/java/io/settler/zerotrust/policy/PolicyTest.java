package io.settler.zerotrust.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.settler.zerotrust.authz.Peer;
import io.settler.zerotrust.authz.PeerAuthorizer;
import io.settler.zerotrust.authz.PeerRule;
import io.settler.zerotrust.identity.ServiceIdentity;
import io.settler.zerotrust.identity.TrustDomain;
import io.settler.zerotrust.network.IpAddressLiteral;
import io.settler.zerotrust.policy.PolicyException.Reason;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class PolicyTest {

    private static final String JSON = """
            {
              "trustDomain": "example.org",
              "services": {
                "api": {
                  "scopes": ["db:read", "db:write", "queue:jobs:publish"],
                  "accepts": [
                    {"service": "gateway", "networks": ["10.0.0.0/8", "::1/128"]},
                    {"pathPrefix": "jobs"}
                  ]
                },
                "worker": {"path": "jobs/worker", "scopes": ["queue:jobs:consume", "webhook:send"]},
                "gateway": {},
                "webhook": {"accepts": [{"service": "worker"}]}
              }
            }
            """;

    private static Peer peer(String spiffeId, String address) {
        return Peer.of(ServiceIdentity.parse(spiffeId), IpAddressLiteral.parse(address));
    }

    @Test
    void typedAndTextTrustDomainsBuildTheSamePolicy() {
        Policy typed = Policy.builder(TrustDomain.of("example.org"))
                .service("api", api -> api.accept(PeerRule.pathPrefix(api.trustDomain(), "jobs")))
                .build();
        Policy text = Policy.builder("example.org")
                .service("api", api -> api.accept(PeerRule.pathPrefix("example.org", "jobs")))
                .build();

        assertThat(typed.trustDomain()).isEqualTo(text.trustDomain()).hasToString("example.org");
        assertThat(typed.service("api").orElseThrow()).isEqualTo(text.service("api").orElseThrow());
    }

    @Test
    void refusesAnInvalidTrustDomainAsTheTrustDomain() {
        assertThatThrownBy(() -> Policy.builder("Example.ORG:443"))
                .isInstanceOf(PolicyException.class)
                .hasMessageStartingWith("trust domain: 'Example.ORG:443' is not a SPIFFE trust domain")
                .satisfies(e -> assertThat(((PolicyException) e).reason()).isEqualTo(Reason.INVALID_VALUE));
    }

    @Test
    void loadsServicesScopesAndAcceptedPeersFromJson(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("policy.json"), JSON);

        Policy policy = Policy.fromJson(file);

        assertThat(policy.trustDomain()).isEqualTo(TrustDomain.of("example.org"));
        assertThat(policy.services()).extracting(ServicePolicy::name)
                .containsExactly("api", "worker", "gateway", "webhook");
        ServicePolicy worker = policy.service("worker").orElseThrow();
        assertThat(worker.identity()).hasToString("spiffe://example.org/jobs/worker");
        assertThat(worker.mayHold("webhook:send")).isTrue();
        assertThat(worker.mayHold("db:write")).isFalse();
        assertThat(policy.service(ServiceIdentity.parse("spiffe://example.org/jobs/worker"))).contains(worker);
    }

    @Test
    void drivesTheAuthorizerOfEachService() {
        Policy policy = Policy.fromJson(JSON);
        PeerAuthorizer api = policy.authorizerFor("api");

        assertThat(api.authorize(peer("spiffe://example.org/gateway", "10.1.2.3")).allowed()).isTrue();
        assertThat(api.authorize(peer("spiffe://example.org/gateway", "192.168.0.1")).allowed())
                .as("gateway from outside its networks").isFalse();
        assertThat(api.authorize(peer("spiffe://example.org/jobs/worker", "192.168.0.1")).allowed()).isTrue();
        assertThat(api.authorize(peer("spiffe://example.org/webhook", "10.1.2.3")).allowed()).isFalse();
        assertThat(policy.authorizerFor("webhook").authorize(peer("spiffe://example.org/jobs/worker", "127.0.0.1"))
                .allowed()).isTrue();
    }

    @Test
    void buildsTheSamePolicyInCode() {
        Policy policy = Policy.builder("example.org")
                .service("api", api -> api.scopes("db:read").acceptService("worker", "127.0.0.0/8"))
                .service("worker", worker -> worker.scopes("queue:jobs:consume"))
                .build();

        assertThat(policy.authorizerFor("api").authorize(peer("spiffe://example.org/worker", "127.0.0.1")).allowed())
                .isTrue();
    }

    @Test
    void refusesAuthorizerForServiceThatAcceptsNobody() {
        assertThatThrownBy(() -> Policy.fromJson(JSON).authorizerFor("gateway"))
                .isInstanceOf(PolicyException.class).hasMessageContaining("accepts no peers");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "typo in a field name        | {\"trustDomain\":\"example.org\",\"services\":"
                + "{\"api\":{\"scope\":[\"db:read\"]}}} | UNKNOWN_FIELD",
        "unknown service in accepts  | {\"trustDomain\":\"example.org\",\"services\":"
                + "{\"api\":{\"accepts\":[{\"service\":\"ghost\"}]}}} | UNKNOWN_SERVICE",
        "network without identity    | {\"trustDomain\":\"example.org\",\"services\":"
                + "{\"api\":{\"accepts\":[{\"networks\":[\"10.0.0.0/8\"]}]}}} | MISSING_FIELD",
        "two kinds in one rule       | {\"trustDomain\":\"example.org\",\"services\":"
                + "{\"api\":{\"accepts\":[{\"service\":\"api\",\"trustDomain\":\"x.org\"}]}}} | INVALID_VALUE",
        "bad network                 | {\"trustDomain\":\"example.org\",\"services\":"
                + "{\"api\":{\"accepts\":[{\"pathPrefix\":\"jobs\",\"networks\":[\"10.0.0.1/8\"]}]}}} | INVALID_VALUE",
        "wildcard scope              | {\"trustDomain\":\"example.org\",\"services\":"
                + "{\"api\":{\"scopes\":[\"db:*\"]}}} | INVALID_VALUE",
        "scope of wrong type         | {\"trustDomain\":\"example.org\",\"services\":"
                + "{\"api\":{\"scopes\":[42]}}} | INVALID_VALUE",
        "missing trust domain        | {\"services\":{}} | MISSING_FIELD",
        "invalid trust domain        | {\"trustDomain\":\"Example.ORG:443\",\"services\":{}} | INVALID_VALUE",
        "bad service name            | {\"trustDomain\":\"example.org\",\"services\":"
                + "{\"Api Server\":{}}} | INVALID_VALUE",
        "two services one identity   | {\"trustDomain\":\"example.org\",\"services\":"
                + "{\"a\":{\"path\":\"x\"},\"b\":{\"path\":\"x\"}}} | DUPLICATE_SERVICE",
        "duplicate JSON key          | {\"trustDomain\":\"example.org\",\"trustDomain\":\"evil.org\","
                + "\"services\":{}} | MALFORMED_JSON",
        "not JSON                    | trustDomain=example.org | MALFORMED_JSON",
        "trailing garbage            | {\"trustDomain\":\"example.org\",\"services\":{}} {} | MALFORMED_JSON",
    })
    void refusesMalformedPolicies(String attack, String json, Reason reason) {
        assertThatThrownBy(() -> Policy.fromJson(json))
                .isInstanceOf(PolicyException.class)
                .satisfies(e -> assertThat(((PolicyException) e).reason()).as(attack).isEqualTo(reason));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "all: pg_hba.conf admits every role, ALTER ROLE all makes the cluster read-only | all",
        "public: GRANT ... TO public grants every role                                  | public",
        "sameuser: pg_hba.conf matches the database named like the user                | sameuser",
        "samerole: pg_hba.conf matches any database of a role the user is in            | samerole",
        "samegroup: the old spelling of samerole                                        | samegroup",
        "replication: pg_hba.conf admits replication connections                        | replication",
        "default: the Redis built-in user                                               | default",
        "pg_ prefix: a predefined role such as pg_read_all_data                         | pg_read_all_data",
        "current_user: ALTER ROLE current_user changes whoever runs the SQL             | current_user",
        "session_user: the same for the session's role                                  | session_user",
        "user: a reserved word                                                          | user",
        "none: a role name PostgreSQL reserves                                          | none",
        "postgres: the bootstrap superuser of a default cluster                         | postgres",
    })
    void refusesServiceNamedLikeAKeywordTheServerConfigurationWouldWiden(String attack, String name) {
        String json = "{\"trustDomain\":\"example.org\",\"services\":{\"db\":{\"accepts\":[{\"service\":\""
                + name + "\"}]},\"" + name + "\":{\"scopes\":[\"db:read\"]}}}";

        assertThatThrownBy(() -> Policy.fromJson(json))
                .as(attack)
                .isInstanceOfSatisfying(PolicyException.class,
                        e -> assertThat(e.reason()).isEqualTo(Reason.RESERVED_NAME))
                .hasMessageContaining("service name '" + name + "' is")
                .hasMessageContaining("choose another");
        assertThatThrownBy(() -> Policy.builder("example.org").service(name, s -> { }).build())
                .as(attack + " (in code)")
                .isInstanceOfSatisfying(PolicyException.class,
                        e -> assertThat(e.reason()).isEqualTo(Reason.RESERVED_NAME));
    }

    @Test
    void keepsOrdinaryNamesThatMerelyContainAKeyword() {
        Policy policy = Policy.builder("example.org")
                .service("all_orders", s -> { }).service("publicity", s -> { }).service("users", s -> { })
                .service("pgbouncer", s -> { }).service("default-api", s -> { })
                .build();

        assertThat(policy.services()).hasSize(5);
        assertThat(ReservedNames.reason("api")).isEmpty();
        assertThat(ReservedNames.reason("ALL")).as("case does not matter to PostgreSQL's key words").isPresent();
        assertThat(ReservedNames.reason("+admins")).isPresent();
        assertThat(ReservedNames.reason("@roles.txt")).isPresent();
    }

    @Test
    void refusesDeeplyNestedInput() {
        String deep = "{\"trustDomain\":\"example.org\",\"services\":{\"api\":"
                + "[".repeat(5000) + "]".repeat(5000) + "}}";

        assertThatThrownBy(() -> Policy.fromJson(deep))
                .isInstanceOf(PolicyException.class)
                .satisfies(e -> assertThat(((PolicyException) e).reason()).isEqualTo(Reason.MALFORMED_JSON));
    }

    @Test
    void namesTheFileAndPathOfTheProblem(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("policy.json"),
                "{\"trustDomain\":\"example.org\",\"services\":{\"api\":{\"accepts\":[{\"service\":\"ghost\"}]}}}");

        assertThatThrownBy(() -> Policy.fromJson(file))
                .hasMessageStartingWith(file.toString())
                .hasMessageContaining("ghost");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "service       | {\"service\": \"gateway\", \"networks\": []}",
        "identity      | {\"identity\": \"spiffe://example.org/gateway\", \"networks\": []}",
        "pathPrefix    | {\"pathPrefix\": \"gateway\", \"networks\": []}",
        "trustDomain   | {\"trustDomain\": \"example.org\", \"networks\": []}",
    })
    void emptyTemplatedNetworkListDoesNotAdmitFromEveryAddress(String kind, String accept) {
        String json = "{\"trustDomain\":\"example.org\",\"services\":{\"api\":{\"accepts\":[" + accept
                + "]},\"gateway\":{}}}";

        assertThatThrownBy(() -> Policy.fromJson(json))
                .as(kind)
                .isInstanceOfSatisfying(PolicyException.class,
                        e -> assertThat(e.reason()).isEqualTo(Reason.EMPTY_LIST))
                .hasMessageContaining("$.services.api.accepts[0].networks")
                .hasMessageContaining("never means any network")
                .hasMessageContaining("leave the 'networks' key out")
                .hasMessageContaining("0.0.0.0/0");
    }

    @Test
    void emptyNetworkListInCodeDoesNotAdmitFromEveryAddress() {
        List<String> rendered = List.of();

        assertThatThrownBy(() -> Policy.builder("example.org")
                .service("api", api -> api.acceptService("gateway", rendered))
                .service("gateway", gateway -> { }))
                .isInstanceOfSatisfying(PolicyException.class,
                        e -> assertThat(e.reason()).isEqualTo(Reason.EMPTY_LIST))
                .hasMessageContaining("call acceptService(\"gateway\")");
    }

    @Test
    void emptyScopeAndAcceptsListsGrantNothing() {
        Policy policy = Policy.fromJson("{\"trustDomain\":\"example.org\",\"services\":{\"api\":{\"scopes\":[],"
                + "\"accepts\":[]}}}");

        assertThat(policy.service("api").orElseThrow().scopes()).isEmpty();
        assertThat(policy.service("api").orElseThrow().mayHold("db:read")).isFalse();
        assertThatThrownBy(() -> policy.authorizerFor("api"))
                .isInstanceOf(PolicyException.class).hasMessageContaining("accepts no peers");
    }

    @Test
    void anyAddressStaysExpressibleExplicitly() {
        Policy policy = Policy.fromJson("{\"trustDomain\":\"example.org\",\"services\":{\"api\":{\"accepts\":["
                + "{\"service\":\"gateway\",\"networks\":[\"0.0.0.0/0\",\"::/0\"]},{\"service\":\"worker\"}]},"
                + "\"gateway\":{},\"worker\":{}}}");
        PeerAuthorizer api = policy.authorizerFor("api");

        assertThat(api.authorize(peer("spiffe://example.org/gateway", "192.0.2.7")).allowed()).isTrue();
        assertThat(api.authorize(peer("spiffe://example.org/worker", "2001:db8::1")).allowed()).isTrue();
        assertThat(Policy.builder("example.org").service("api", s -> s.acceptService("gateway", List.of("10.0.0.0/8")))
                .service("gateway", s -> { }).build().authorizerFor("api")
                .authorize(peer("spiffe://example.org/gateway", "192.0.2.7")).allowed()).isFalse();
    }

    @Test
    void refusesMissingFile(@TempDir Path dir) {
        assertThatThrownBy(() -> Policy.fromJson(dir.resolve("absent.json")))
                .isInstanceOf(PolicyException.class)
                .satisfies(e -> assertThat(((PolicyException) e).reason()).isEqualTo(Reason.FILE_UNREADABLE));
    }
}
