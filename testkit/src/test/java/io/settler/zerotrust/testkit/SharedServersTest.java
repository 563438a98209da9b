package io.settler.zerotrust.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import io.settler.zerotrust.identity.TrustDomain;
import java.io.IOException;
import java.sql.Connection;
import java.sql.SQLException;
import org.junit.jupiter.api.Test;

/** Both annotations on one class: one CA, one server of each kind per test run. */
@TlsPostgres
@TlsRedis
class SharedServersTest {

    private final LocalPostgres postgres;
    private final LocalRedis redis;

    SharedServersTest(LocalPostgres postgres, LocalRedis redis) {
        this.postgres = postgres;
        this.redis = redis;
    }

    @Test
    void sharesOneCertificateAuthority() {
        assertThat(postgres.certificateAuthority()).isSameAs(redis.certificateAuthority());
        assertThat(postgres.certificateAuthority().trustDomain()).isEqualTo(TrustDomain.of(SharedServers.TRUST_DOMAIN));
    }

    @Test
    void injectsTheSameServersEverywhere(LocalPostgres postgresAgain, LocalRedis redisAgain) {
        assertThat(postgresAgain).isSameAs(postgres);
        assertThat(redisAgain).isSameAs(redis);
    }

    @Test
    void oneServiceCertificateWorksWithBothServers() throws SQLException, IOException {
        postgres.createRole("kit_shared");
        postgres.createDatabase("kit_shared", "kit_shared");
        redis.createUser("kit_shared", "shared-password", "~shared:* +@all");

        try (Connection connection = postgres.connect("kit_shared", "kit_shared")) {
            assertThat(connection.isValid(5)).isTrue();
        }
        try (Resp connection = RedisClients.authenticated(redis, "kit_shared")) {
            assertThat(connection.call("PING")).isEqualTo("PONG");
        }
        assertThat(redis.clientCertificate("kit_shared").certificate().getIssuerX500Principal())
                .isEqualTo(postgres.clientCertificate("kit_shared").certificate().getIssuerX500Principal());
    }
}
