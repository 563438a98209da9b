package io.settler.zerotrust.examples;

import io.settler.zerotrust.jdbc.PostgresServerConfig;
import io.settler.zerotrust.pki.DevCertificateAuthority;
import io.settler.zerotrust.pki.IssuedCertificate;
import io.settler.zerotrust.policy.Policy;
import io.settler.zerotrust.policy.ServicePolicy;
import io.settler.zerotrust.redis.RedisAcl;
import io.settler.zerotrust.testkit.LocalPostgres;
import io.settler.zerotrust.testkit.LocalRedis;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.List;
import java.util.function.Consumer;

/**
 * Zone 2 on loopback for the demo and the examples' tests: a development CA, a {@link Deployment}
 * directory with every service's certificate and Redis password, and a TLS PostgreSQL and a TLS
 * Redis whose {@code pg_hba.conf}, {@code pg_ident.conf}, GRANTs, row-level security and ACL users
 * are all rendered from the one {@code policy.json} (and written to {@code rendered/} in the
 * directory, for a reader or an operator of real servers). Closing it stops both servers.
 *
 * <p>Tables (database {@value #DATABASE}, both tenant tables under row-level security):
 * {@code orders(id, tenant_id, item, created_at)} and
 * {@code job_results(order_id, tenant_id, result, finished_at)}. Queue {@value #QUEUE}: the
 * consumer group {@value #GROUP} exists on every publisher's stream.
 */
public final class LocalZone implements AutoCloseable {

    /** The services that get a certificate: the policy's Zone 1 services and the webhook receiver. */
    public static final List<String> SERVICES = List.of("gateway", "api", "worker", "webhook", "receiver");
    /** The database service of the policy. */
    public static final String DATABASE_SERVICE = "orders-db";
    /** The database name. */
    public static final String DATABASE = "orders";
    /** The job queue. */
    public static final String QUEUE = "jobs";
    /** The workers' consumer group. */
    public static final String GROUP = "workers";

    private static final String SCHEMA = String.join("\n",
            "CREATE TABLE orders (id bigserial PRIMARY KEY, tenant_id text NOT NULL, item text NOT NULL,",
            "    created_at timestamptz NOT NULL DEFAULT now());",
            "CREATE TABLE job_results (order_id bigint PRIMARY KEY, tenant_id text NOT NULL, result text NOT NULL,",
            "    finished_at timestamptz NOT NULL DEFAULT now(), notified_at timestamptz);",
            "ALTER TABLE orders OWNER TO orders_owner;",
            "ALTER TABLE job_results OWNER TO orders_owner;");

    private final DevCertificateAuthority ca;
    private final Deployment deployment;
    private final LocalPostgres postgres;
    private final LocalRedis redis;

    private LocalZone(DevCertificateAuthority ca, Deployment deployment, LocalPostgres postgres, LocalRedis redis) {
        this.ca = ca;
        this.deployment = deployment;
        this.postgres = postgres;
        this.redis = redis;
    }

    /**
     * Writes the example policy and credentials into {@code directory}, starts both servers
     * configured from the policy, and records their addresses in the deployment's endpoints.
     *
     * @param directory an empty directory, e.g. a temporary one
     * @param progress told about each step, e.g. {@code System.out::println}
     */
    public static LocalZone start(Path directory, Consumer<String> progress) {
        Rendered rendered = render(directory, progress);
        Policy policy = rendered.policy();
        DevCertificateAuthority ca = rendered.ca();
        RedisAcl renderedAcl = rendered.acl();
        PostgresServerConfig postgresConfig = rendered.postgres();
        progress.accept("starting TLS PostgreSQL on 127.0.0.1 with pg_hba.conf and pg_ident.conf");
        LocalPostgres postgres = LocalPostgres.builder(ca)
                .authentication(postgresConfig.hbaLines(), postgresConfig.identLines()).start();
        LocalRedis redis = null;
        try {
            postgres.createRole("orders_owner");
            postgres.createDatabase(DATABASE, "orders_owner");
            postgres.executeAsSuperuser(DATABASE, SCHEMA);
            postgres.executeAsSuperuser(DATABASE, postgresConfig.sql());

            progress.accept("starting TLS Redis on 127.0.0.1 with users.acl (users " + renderedAcl.users() + ")");
            LocalRedis.Builder redisServer = LocalRedis.builder(ca).appendOnly(true);
            renderedAcl.users().stream().filter(user -> !user.equals("default")) // the testkit's is off too
                    .forEach(user -> redisServer.hashedUser(user, String.join(" ", renderedAcl.rules(user))));
            redis = redisServer.start();
            for (ServicePolicy service : policy.services()) {
                if (service.mayHold("queue:" + QUEUE + ":publish")) {
                    // The operator's setup step: workers may not create groups.
                    redis.executeAsAdmin("XGROUP", "CREATE", RedisAcl.streamKey(QUEUE, service.name()), GROUP, "0",
                            "MKSTREAM");
                }
            }
        } catch (RuntimeException e) {
            postgres.close();
            if (redis != null) {
                redis.close();
            }
            throw e;
        }
        Deployment deployment = Deployment.at(directory)
                .withEndpoint("postgres.host", postgres.host())
                .withEndpoint("postgres.port", Integer.toString(postgres.port()))
                .withEndpoint("postgres.database", DATABASE)
                .withEndpoint("redis.host", redis.host())
                .withEndpoint("redis.port", Integer.toString(redis.tlsPort()));
        deployment.saveEndpoints();
        return new LocalZone(ca, deployment, postgres, redis);
    }

    /**
     * Prepares {@code directory} for servers of your own: everything {@link #start} writes, plus
     * server certificates ({@code orders-db-server.crt}, {@code redis-server.crt}), the schema,
     * a {@code redis.conf} fragment, an {@code endpoints.properties} to edit, and
     * {@code rendered/SETUP.txt} with the steps. Then run the demo with {@code --deployment}.
     */
    public static void prepare(Path directory, Consumer<String> progress) {
        Rendered rendered = render(directory, progress);
        for (String server : List.of(DATABASE_SERVICE, "redis")) {
            rendered.ca().leaf(server).server().dnsNames("localhost").ipAddresses("127.0.0.1").issue()
                    .writePem(directory, server + "-server");
        }
        Path files = directory.resolve("rendered");
        write(files.resolve("schema.sql"), "CREATE ROLE orders_owner;\nCREATE DATABASE " + DATABASE
                + " OWNER orders_owner;\n\\connect " + DATABASE + "\n" + SCHEMA + "\n");
        write(files.resolve("redis.conf"), RedisAcl.tlsDirectives(6380, directory.resolve("redis-server.crt"),
                directory.resolve("redis-server.key"), directory.resolve("ca.crt"), files.resolve("users.acl")));
        write(directory.resolve("endpoints.properties"), String.join("\n",
                "# Where your servers are; the demo starts the Zone 1 services on free loopback ports.",
                "postgres.host=localhost", "postgres.port=5432", "postgres.database=" + DATABASE,
                "redis.host=localhost", "redis.port=6380", ""));
        write(files.resolve("SETUP.txt"), String.join("\n",
                "Servers of your own for: bin/demo --deployment " + directory.toAbsolutePath(),
                "",
                "PostgreSQL (15 or newer):",
                "  1. ssl = on, ssl_min_protocol_version = 'TLSv1.3', ssl_cert_file / ssl_key_file = "
                        + DATABASE_SERVICE + "-server.crt / .key, ssl_ca_file = ca.crt (from " + directory + ")",
                "  2. psql -f rendered/schema.sql, then psql -d " + DATABASE + " -f rendered/" + DATABASE_SERVICE + ".sql",
                "  3. put rendered/pg_hba.conf (before any other host line) and rendered/pg_ident.conf in place; reload",
                "Redis (7 or newer): redis-server rendered/redis.conf, then as an operator, for the queue:",
                "  XGROUP CREATE " + RedisAcl.streamKey(QUEUE, "api") + " " + GROUP + " 0 MKSTREAM",
                "Then edit endpoints.properties to name both servers.",
                ""));
        progress.accept("prepared " + directory + ": see rendered/SETUP.txt");
    }

    /** What both {@link #start} and {@link #prepare} write, and the objects that wrote it. */
    private static Rendered render(Path directory, Consumer<String> progress) {
        Deployment.writeExamplePolicy(directory);
        Policy policy = Policy.fromJson(directory.resolve("policy.json"));
        progress.accept("issuing a development CA for " + policy.trustDomain() + " and certificates for " + SERVICES);
        DevCertificateAuthority ca = DevCertificateAuthority.create(policy.trustDomain());
        for (String service : SERVICES) {
            IssuedCertificate issued = ca.leaf(service).serverAndClient()
                    .dnsNames("localhost").ipAddresses("127.0.0.1").issue();
            issued.writePem(directory, service); // <service>.crt, <service>.key (0600), ca.crt
        }
        writePrivate(directory.resolve(Deployment.WEBHOOK_SECRET_FILE), new String(randomPassword()));
        RedisAcl.Builder acl = RedisAcl.builder(policy);
        for (ServicePolicy service : policy.services()) {
            if (service.scopes().stream().anyMatch(scope -> scope.startsWith("redis:") || scope.startsWith("queue:"))) {
                char[] password = randomPassword();
                writePrivate(directory.resolve(service.name() + ".redis-password"), new String(password));
                acl.password(service.name(), password);
            }
        }
        RedisAcl renderedAcl = acl.build();
        PostgresServerConfig postgresConfig = PostgresServerConfig.builder(policy, DATABASE_SERVICE)
                .database(DATABASE).tenantTable("orders").tenantTable("job_results").build();

        Path rendered = directory.resolve("rendered");
        write(rendered.resolve("pg_hba.conf"), String.join("\n", postgresConfig.hbaLines()) + "\n");
        write(rendered.resolve("pg_ident.conf"), String.join("\n", postgresConfig.identLines()) + "\n");
        write(rendered.resolve(DATABASE_SERVICE + ".sql"), postgresConfig.sql());
        write(rendered.resolve("users.acl"), renderedAcl.aclFile());
        progress.accept("rendered pg_hba.conf, pg_ident.conf, " + DATABASE_SERVICE + ".sql and users.acl from the policy"
                + " into " + rendered);
        return new Rendered(policy, ca, renderedAcl, postgresConfig);
    }

    private record Rendered(Policy policy, DevCertificateAuthority ca, RedisAcl acl, PostgresServerConfig postgres) {
    }

    /** The deployment: policy, credentials, endpoints of both servers. */
    public Deployment deployment() {
        return deployment;
    }

    /** The development CA that issued every certificate (also for issuing attackers' certificates). */
    public DevCertificateAuthority certificateAuthority() {
        return ca;
    }

    /** The PostgreSQL server (superuser access for checks). */
    public LocalPostgres postgres() {
        return postgres;
    }

    /** The Redis server (administrative access for checks). */
    public LocalRedis redis() {
        return redis;
    }

    /** Stops both servers and deletes their files; the deployment directory is the caller's. */
    @Override
    public void close() {
        try {
            redis.close();
        } finally {
            postgres.close();
        }
    }

    private static char[] randomPassword() {
        byte[] bytes = new byte[24];
        new SecureRandom().nextBytes(bytes);
        return HexFormat.of().formatHex(bytes).toCharArray();
    }

    private static void write(Path file, String content) {
        try {
            Files.createDirectories(file.getParent());
            Files.writeString(file, content);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }

    private static void writePrivate(Path file, String content) {
        try {
            Files.deleteIfExists(file);
            Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            Files.writeString(file, content);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }
}
