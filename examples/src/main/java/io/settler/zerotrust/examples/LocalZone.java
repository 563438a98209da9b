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
import java.util.stream.Collectors;

/**
 * Zone 2 on loopback for the demo and the examples' tests: a development CA, a {@link Deployment}
 * directory with every service's certificate and Redis password, and a TLS PostgreSQL and a TLS
 * Redis whose {@code pg_hba.conf}, {@code pg_ident.conf}, GRANTs, row-level security and ACL users
 * are all rendered from the one {@code policy.json} (and written to {@code rendered/} in the
 * directory, for a reader or an operator of real servers). Closing it stops both servers.
 *
 * <p>Tables (database {@value #DATABASE}, all tenant tables under row-level security):
 * {@code orders(id, tenant_id, item, caller, idempotency_key, created_at)}, unique per tenant,
 * caller and idempotency key; {@code outbox(id, tenant_id, order_id, created_at, published_at)},
 * the jobs the api still has to publish, written in the order's transaction; and
 * {@code job_results(order_id, tenant_id, result, finished_at, notified_at)}. The function
 * {@value #PENDING_TENANTS_FUNCTION} tells the services that publish to the queue which tenants have
 * unpublished jobs (and nothing else). Queue {@value #QUEUE}: the consumer group {@value #GROUP}
 * exists on every publisher's stream.
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

    /** The function the api's outbox relay calls to find the tenants with jobs still to publish. */
    public static final String PENDING_TENANTS_FUNCTION = "public.outbox_pending_tenants()";

    private static final String SCHEMA = String.join("\n",
            "CREATE TABLE orders (id bigserial PRIMARY KEY, tenant_id text NOT NULL, item text NOT NULL,",
            "    caller text, idempotency_key text, created_at timestamptz NOT NULL DEFAULT now(),",
            "    UNIQUE (tenant_id, caller, idempotency_key));",
            "CREATE TABLE outbox (id bigserial PRIMARY KEY, tenant_id text NOT NULL,",
            "    order_id bigint NOT NULL UNIQUE REFERENCES orders (id),",
            "    created_at timestamptz NOT NULL DEFAULT now(), published_at timestamptz);",
            "CREATE INDEX outbox_pending ON outbox (tenant_id, id) WHERE published_at IS NULL;",
            "CREATE TABLE job_results (order_id bigint PRIMARY KEY, tenant_id text NOT NULL, result text NOT NULL,",
            "    finished_at timestamptz NOT NULL DEFAULT now(), notified_at timestamptz);",
            "ALTER TABLE orders OWNER TO orders_owner;",
            "ALTER TABLE outbox OWNER TO orders_owner;",
            "ALTER TABLE job_results OWNER TO orders_owner;",
            "-- The outbox relay's one look across tenants: which tenants have unpublished jobs, nothing else.",
            "-- Run by a role that bypasses row-level security, cannot log in, and may read two columns.",
            "CREATE ROLE outbox_reader NOLOGIN BYPASSRLS;",
            "GRANT SELECT (tenant_id, published_at) ON public.outbox TO outbox_reader;",
            "CREATE FUNCTION " + PENDING_TENANTS_FUNCTION + " RETURNS SETOF text LANGUAGE sql STABLE SECURITY DEFINER",
            "    SET search_path = pg_catalog, pg_temp",
            "    AS 'SELECT DISTINCT tenant_id FROM public.outbox WHERE published_at IS NULL';",
            "ALTER FUNCTION " + PENDING_TENANTS_FUNCTION + " OWNER TO outbox_reader;",
            "REVOKE ALL ON FUNCTION " + PENDING_TENANTS_FUNCTION + " FROM PUBLIC;");

    private static final String RELAY_GRANTS_FILE = "outbox-relay.sql";

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
            postgres.executeAsSuperuser(DATABASE, rendered.relayGrants());

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
                "  2. psql -f rendered/schema.sql, then psql -d " + DATABASE
                        + " -f rendered/" + DATABASE_SERVICE + ".sql",
                "     and psql -d " + DATABASE + " -f rendered/" + RELAY_GRANTS_FILE,
                "  3. put rendered/pg_hba.conf (before any other host line) and rendered/pg_ident.conf"
                        + " in place; reload",
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
                .database(DATABASE).tenantTable("orders").tenantTable("outbox").tenantTable("job_results").build();
        // Who relays an outbox to the queue: a service that writes the database and publishes jobs.
        String relayGrants = policy.services().stream()
                .filter(service -> service.mayHold(PostgresServerConfig.WRITE_SCOPE)
                        && service.mayHold("queue:" + QUEUE + ":publish"))
                .map(service -> "GRANT EXECUTE ON FUNCTION " + PENDING_TENANTS_FUNCTION + " TO \"" + service.name()
                        + "\";\n")
                .collect(Collectors.joining());

        Path rendered = directory.resolve("rendered");
        write(rendered.resolve("pg_hba.conf"), String.join("\n", postgresConfig.hbaLines()) + "\n");
        write(rendered.resolve("pg_ident.conf"), String.join("\n", postgresConfig.identLines()) + "\n");
        write(rendered.resolve(DATABASE_SERVICE + ".sql"), postgresConfig.sql());
        write(rendered.resolve(RELAY_GRANTS_FILE), relayGrants);
        write(rendered.resolve("users.acl"), renderedAcl.aclFile());
        progress.accept("rendered pg_hba.conf, pg_ident.conf, " + DATABASE_SERVICE + ".sql, " + RELAY_GRANTS_FILE
                + " and users.acl from the policy into " + rendered);
        return new Rendered(policy, ca, renderedAcl, postgresConfig, relayGrants);
    }

    private record Rendered(Policy policy, DevCertificateAuthority ca, RedisAcl acl, PostgresServerConfig postgres,
                            String relayGrants) {
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
