package io.settler.zerotrust.cli;

import io.settler.zerotrust.cli.render.RenderException;
import io.settler.zerotrust.cli.render.ServerConfigRenderer;
import io.settler.zerotrust.jdbc.ServerConfigException;
import io.settler.zerotrust.policy.Policy;
import io.settler.zerotrust.queue.rabbitmq.RabbitMqBrokerConfig;
import io.settler.zerotrust.redis.RedisTlsException;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.concurrent.Callable;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code zt render}: the server configuration of a policy, by the renderer {@code bin/demo --prepare} uses. */
@Command(name = "render", mixinStandardHelpOptions = true,
        description = {"Renders the server configuration of your policy into <out>/rendered (ServerConfigRenderer,"
                + " the code path of bin/demo --prepare), with SETUP.txt, the steps in order: for postgres"
                + " pg_hba.conf, pg_ident.conf and <database-service>.sql only; for redis users.acl and redis.conf,"
                + " and a fresh password per Redis user in <out>/<user>.redis-password (0600); for rabbitmq"
                + " definitions.json (users named by SPIFFE ID without passwords, permissions, queues), rabbitmq.conf"
                + " (TLS 1.3, EXTERNAL login only) and SETUP.txt. The policy is copied to <out>/policy.json"
                + " (zt drift reads both from there).",
            "Certificates are yours to put in <out> (ca.crt, redis-server.crt/.key, <database-service>-server.crt"
                    + "/.key, rabbitmq-server.crt/.key, queue-setup.crt/.key): e.g. zt ca issue."},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:rendered", "1:the policy is invalid or cannot be rendered (the reason is printed)",
            "2:usage error"})
final class RenderCommand implements Callable<Integer> {

    /** The servers {@code zt render} renders for. */
    enum Server {
        /** PostgreSQL only: pg_hba.conf, pg_ident.conf, roles and GRANTs. */
        POSTGRES,
        /** Redis only: users.acl and a TLS-only redis.conf. */
        REDIS,
        /** RabbitMQ only: definitions.json and a TLS-only rabbitmq.conf. */
        RABBITMQ
    }

    @Spec
    @Nullable CommandSpec spec;

    @Parameters(index = "0", paramLabel = "<server>", description = "postgres, redis or rabbitmq.")
    Server server = Server.REDIS;

    @Option(names = "--policy", required = true, paramLabel = "<policy.json>", description = "Your policy.")
    @Nullable Path policyFile;

    @Option(names = "--out", required = true, paramLabel = "<dir>", description = "Where the files go.")
    @Nullable Path out;

    @Mixin
    DatabaseOptions databaseOptions = new DatabaseOptions();

    @Option(names = "--redis-port", paramLabel = "<port>", defaultValue = "6380",
            description = "redis: the TLS port of redis.conf (default ${DEFAULT-VALUE}).")
    int redisPort = 6380;

    @Mixin
    BrokerOptions brokerOptions = new BrokerOptions();

    @Option(names = "--rabbitmq-port", paramLabel = "<port>", defaultValue = "5671",
            description = "rabbitmq: the TLS port of rabbitmq.conf (default ${DEFAULT-VALUE}).")
    int rabbitmqPort = 5671;

    @Option(names = "--consumer-group", paramLabel = "<group>", defaultValue = "workers",
            description = "redis: the consumer group SETUP.txt creates on each publisher's stream (default"
                    + " ${DEFAULT-VALUE}).")
    String consumerGroup = "workers";

    @Override
    public Integer call() {
        PrintWriter output = Commands.out(spec);
        Path policyPath = Commands.required(policyFile, "--policy");
        Path outDir = Commands.required(out, "--out");
        Policy policy = PolicyCommand.load(policyPath, output);
        if (policy == null) {
            return Zt.FINDING;
        }
        ServerConfigRenderer.Builder renderer = ServerConfigRenderer.builder(policy).redisPort(redisPort)
                .consumerGroup(consumerGroup);
        RabbitMqBrokerConfig broker = null;
        if (server == Server.RABBITMQ) {
            if (databaseOptions.given()) {
                throw new UsageException("--database-service, --database and --tenant-table are for"
                        + " 'zt render postgres'");
            }
            try {
                broker = brokerOptions.render(policy);
            } catch (IllegalArgumentException e) {
                output.println("REFUSED: " + e.getMessage());
                return Zt.FINDING;
            }
        } else if (server == Server.POSTGRES) {
            databaseOptions.renderPostgres(renderer, "render postgres");
        } else if (databaseOptions.given()) {
            throw new UsageException("--database-service, --database and --tenant-table are for 'zt render postgres'");
        }
        try {
            ServerConfigRenderer.createDirectories(outDir);
            Path copy = outDir.resolve("policy.json");
            if (!Files.exists(copy) || !Files.isSameFile(copy, policyPath)) {
                Files.copy(policyPath, copy, StandardCopyOption.REPLACE_EXISTING);
            }
            if (broker != null) {
                ServerConfigRenderer.writeRabbitMq(broker, outDir, rabbitmqPort, output::println);
            } else {
                renderer.build().writeTo(outDir, output::println);
            }
        } catch (RenderException e) {
            if (e.reason() == RenderException.Reason.NOT_A_DIRECTORY) {
                throw new UsageException("--out: " + e.getMessage(), e);
            }
            output.println("REFUSED " + e.reason() + ": " + e.getMessage());
            return Zt.FINDING;
        } catch (ServerConfigException e) {
            output.println("REFUSED " + e.reason() + ": " + e.getMessage());
            return Zt.FINDING;
        } catch (RedisTlsException e) {
            output.println("REFUSED " + e.reason() + ": " + e.getMessage());
            return Zt.FINDING;
        } catch (IOException e) {
            output.println("REFUSED: cannot copy the policy into " + outDir + ": " + e.getMessage());
            return Zt.FINDING;
        }
        output.println("next: put the certificates in " + outDir.toAbsolutePath() + " and follow "
                + outDir.toAbsolutePath().resolve("rendered").resolve("SETUP.txt"));
        return Zt.OK;
    }
}
