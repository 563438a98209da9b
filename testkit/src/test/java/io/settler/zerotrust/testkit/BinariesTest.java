package io.settler.zerotrust.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Missing programs fail with the name of the program and of the package that provides it. */
class BinariesTest {

    @TempDir
    Path empty;

    @Test
    void namesMissingPostgresBinaryAndItsPackage() {
        assertThatThrownBy(() -> Binaries.find("initdb", "postgresql", List.of(empty), "in " + empty))
                .isInstanceOfSatisfying(TestkitException.class,
                        e -> assertThat(e.reason()).isEqualTo(TestkitException.Reason.MISSING_BINARY))
                .hasMessageContaining("'initdb' was not found in " + empty)
                .hasMessageContaining("apt-get install postgresql");
    }

    @Test
    void namesMissingPostgresBinDirectoryFromTheOverride() {
        String previous = System.setProperty(Binaries.POSTGRES_BIN_DIR_PROPERTY, empty.toString());
        try {
            assertThatThrownBy(Binaries::postgres)
                    .isInstanceOfSatisfying(TestkitException.class,
                            e -> assertThat(e.reason()).isEqualTo(TestkitException.Reason.MISSING_BINARY))
                    .hasMessageContaining("'initdb' was not found")
                    .hasMessageContaining("package 'postgresql'");
        } finally {
            restore(Binaries.POSTGRES_BIN_DIR_PROPERTY, previous);
        }
    }

    @Test
    void namesMissingRedisServerAndItsPackage() {
        String previous = System.setProperty(Binaries.REDIS_SERVER_PROPERTY, empty.resolve("redis-server").toString());
        try {
            assertThatThrownBy(() -> LocalRedis.builder(
                    io.settler.zerotrust.pki.DevCertificateAuthority.create("missing.test")).start())
                    .isInstanceOfSatisfying(TestkitException.class,
                            e -> assertThat(e.reason()).isEqualTo(TestkitException.Reason.MISSING_BINARY))
                    .hasMessageContaining("'redis-server' was not found")
                    .hasMessageContaining("apt-get install redis-server");
        } finally {
            restore(Binaries.REDIS_SERVER_PROPERTY, previous);
        }
    }

    @Test
    void namesMissingRabbitMqScriptsAndTheirPackage() {
        String previous = System.setProperty(Binaries.RABBITMQ_BIN_DIR_PROPERTY, empty.toString());
        try {
            assertThatThrownBy(() -> LocalRabbitMq.builder(
                    io.settler.zerotrust.pki.DevCertificateAuthority.create("missing.test")).start())
                    .isInstanceOfSatisfying(TestkitException.class,
                            e -> assertThat(e.reason()).isEqualTo(TestkitException.Reason.MISSING_BINARY))
                    .hasMessageContaining("'rabbitmq-server' was not found in " + empty)
                    .hasMessageContaining("apt-get install rabbitmq-server");
        } finally {
            restore(Binaries.RABBITMQ_BIN_DIR_PROPERTY, previous);
        }
    }

    @Test
    void prefersTheHighestPostgresVersion() throws Exception {
        for (String version : List.of("9.6", "15", "13", "notaversion")) {
            Files.createDirectories(empty.resolve(version).resolve("bin"));
        }

        assertThat(Binaries.debianPostgresBinDirs(empty)).containsExactly(
                empty.resolve("15/bin"), empty.resolve("13/bin"), empty.resolve("9.6/bin"));
    }

    @Test
    void findsTheInstalledServers() {
        Binaries.Postgres postgres = Binaries.postgres();

        assertThat(postgres.initdb()).isExecutable();
        assertThat(postgres.postgres().getParent()).isEqualTo(postgres.pgCtl().getParent());
        assertThat(Binaries.redisServer()).isExecutable();
        Binaries.RabbitMq rabbitMq = Binaries.rabbitMq();
        assertThat(rabbitMq.server()).isExecutable().hasFileName("rabbitmq-server");
        assertThat(rabbitMq.ctl()).isExecutable().hasFileName("rabbitmqctl");
        assertThat(rabbitMq.ctl().getParent()).isEqualTo(rabbitMq.server().getParent());
        assertThat(rabbitMq.epmd()).isExecutable().hasFileName("epmd");
        assertThat(rabbitMq.epmd().getParent()).isEqualTo(rabbitMq.vm().getParent());
        assertThat(rabbitMq.vm()).isExecutable().hasFileName("beam.smp");
    }

    private static void restore(String property, String previous) {
        if (previous == null) {
            System.clearProperty(property);
        } else {
            System.setProperty(property, previous);
        }
    }
}
