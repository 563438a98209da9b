package io.settler.zerotrust.examples;

import io.settler.zerotrust.cli.render.RenderException;
import io.settler.zerotrust.cli.render.ServerConfigRenderer;
import io.settler.zerotrust.jdbc.PostgresServerConfig;
import io.settler.zerotrust.pki.DevCertificateAuthority;
import io.settler.zerotrust.pki.IssuedCertificate;
import io.settler.zerotrust.policy.Policy;
import io.settler.zerotrust.policy.ServicePolicy;
import io.settler.zerotrust.redis.RedisAcl;
import io.settler.zerotrust.testkit.LocalPostgres;
import io.settler.zerotrust.testkit.LocalRedis;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
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
    /** The demo's webhook receiver (a customer's endpoint, outside the policy), which also gets a certificate. */
    private static final String RECEIVER = "receiver";
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
        Rendered rendered = render(directory, Optional.of(DATABASE_SERVICE), progress);
        Policy policy = rendered.policy();
        DevCertificateAuthority ca = rendered.ca();
        RedisAcl renderedAcl = rendered.acl();
        PostgresServerConfig postgresConfig = rendered.postgres().orElseThrow();
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
                    // The operator's setup step (SETUP.txt runs it as queue-setup): workers may not create groups.
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
     * Prepares {@code directory} for servers of your own: creates it (and its parents) if missing;
     * renders the configuration of the {@code policy.json} already there, which is never
     * overwritten, or else writes the bundled example policy there first (and says so). Writes
     * everything {@link #start} writes, plus server certificates ({@code <database service>-server.crt},
     * {@code redis-server.crt}), a client certificate for the group setup user
     * ({@value ServerConfigRenderer#GROUP_SETUP_USER}), the schema, a {@code redis.conf}, an
     * {@code endpoints.properties} to edit, and {@code rendered/SETUP.txt} with the steps
     * ({@link ServerConfigRenderer}). Then run the demo with {@code --deployment}.
     *
     * @param directory the directory, existing or not
     * @param databaseService the service of the policy that stands for the database; empty for
     *     {@value #DATABASE_SERVICE}, or none if the policy has no {@code db:} scopes
     * @param progress told about each step, e.g. {@code System.out::println}
     * @return what was prepared
     * @throws io.settler.zerotrust.policy.PolicyException if {@code policy.json} is invalid
     * @throws RenderException if {@code directory} is a file, or the policy needs a database
     *     service and has none of that name
     */
    public static Prepared prepare(Path directory, Optional<String> databaseService, Consumer<String> progress) {
        Rendered rendered = render(directory, databaseService, progress);
        List<String> servers = new ArrayList<>(List.of("redis"));
        rendered.databaseService().ifPresent(service -> servers.add(0, service));
        for (String server : servers) {
            rendered.ca().leaf(server).server().dnsNames("localhost").ipAddresses("127.0.0.1").issue()
                    .writePem(directory, server + "-server");
        }
        if (rendered.acl().users().contains(ServerConfigRenderer.GROUP_SETUP_USER)) {
            rendered.ca().leaf(ServerConfigRenderer.GROUP_SETUP_USER).client().issue()
                    .writePem(directory, ServerConfigRenderer.GROUP_SETUP_USER);
        }
        ServerConfigRenderer.write(directory.resolve("endpoints.properties"), String.join("\n",
                "# Where your servers are; the demo starts the Zone 1 services on free loopback ports.",
                "postgres.host=localhost", "postgres.port=5432", "postgres.database=" + DATABASE,
                "redis.host=localhost", "redis.port=6380", ""));
        progress.accept("prepared " + directory + ": see " + directory.resolve("rendered").resolve("SETUP.txt"));
        return new Prepared(directory, rendered.policy(), rendered.ca(), rendered.examplePolicyWritten());
    }

    /** Prepares {@code directory} with {@value #DATABASE_SERVICE} as the database service; see {@link #prepare}. */
    public static Prepared prepare(Path directory, Consumer<String> progress) {
        return prepare(directory, Optional.empty(), progress);
    }

    /**
     * What {@link #prepare} did.
     *
     * @param directory the directory prepared
     * @param policy the policy rendered (the one found there, or the example)
     * @param certificateAuthority the development CA that issued every certificate there
     * @param examplePolicyWritten whether there was no {@code policy.json} and the example was written
     */
    public record Prepared(Path directory, Policy policy, DevCertificateAuthority certificateAuthority,
                           boolean examplePolicyWritten) {
    }

    /**
     * What both {@link #start} and {@link #prepare} write, and the objects that wrote it: the
     * policy (the one in {@code directory}, or the example), certificates, and what
     * {@link ServerConfigRenderer} renders.
     */
    private static Rendered render(Path directory, Optional<String> requestedDatabase, Consumer<String> progress) {
        ServerConfigRenderer.createDirectories(directory);
        Path policyFile = directory.resolve("policy.json");
        boolean example = !Files.exists(policyFile);
        if (example) {
            Deployment.writeExamplePolicy(directory);
            progress.accept("no policy.json in " + directory + ": wrote the bundled example policy there; edit it"
                    + " and run this again to render your own");
        }
        Policy policy = Policy.fromJson(policyFile);
        if (!example) {
            progress.accept("rendering the policy in " + policyFile + " (left as it is)");
        }
        Optional<String> databaseService = databaseService(policy, policyFile, requestedDatabase);
        List<String> services = new ArrayList<>();
        policy.services().stream().map(ServicePolicy::name)
                .filter(name -> databaseService.map(db -> !db.equals(name)).orElse(true)).forEach(services::add);
        if (!services.contains(RECEIVER)) {
            services.add(RECEIVER);
        }
        progress.accept("issuing a development CA for " + policy.trustDomain() + " and certificates for " + services);
        DevCertificateAuthority ca = DevCertificateAuthority.create(policy.trustDomain());
        for (String service : services) {
            IssuedCertificate issued = ca.leaf(service).serverAndClient()
                    .dnsNames("localhost").ipAddresses("127.0.0.1").issue();
            issued.writePem(directory, service); // <service>.crt, <service>.key (0600), ca.crt
        }
        ServerConfigRenderer.writePrivate(directory.resolve(Deployment.WEBHOOK_SECRET_FILE),
                new String(randomPassword()));
        // Who relays an outbox to the queue: a service that writes the database and publishes jobs.
        String relayGrants = policy.services().stream()
                .filter(service -> service.mayHold(PostgresServerConfig.WRITE_SCOPE)
                        && service.mayHold("queue:" + QUEUE + ":publish"))
                .map(service -> "GRANT EXECUTE ON FUNCTION " + PENDING_TENANTS_FUNCTION + " TO \"" + service.name()
                        + "\";\n")
                .collect(Collectors.joining());
        ServerConfigRenderer.Builder renderer = ServerConfigRenderer.builder(policy).consumerGroup(GROUP);
        databaseService.ifPresent(service -> {
            renderer.database(service, DATABASE).tenantTable("orders").tenantTable("outbox").tenantTable("job_results")
                    .sql("schema.sql", "CREATE ROLE orders_owner;\nCREATE DATABASE " + DATABASE
                            + " OWNER orders_owner;\n\\connect " + DATABASE + "\n" + SCHEMA + "\n");
            if (!relayGrants.isEmpty()) {
                renderer.sql(RELAY_GRANTS_FILE, relayGrants);
            }
        });
        ServerConfigRenderer.Rendered rendered = renderer.build().writeTo(directory, progress);
        return new Rendered(policy, ca, rendered.acl().orElseThrow(), rendered.postgres(), databaseService,
                relayGrants, example);
    }

    /** The database service: the one asked for, else {@value #DATABASE_SERVICE} if the policy uses a database. */
    private static Optional<String> databaseService(Policy policy, Path policyFile, Optional<String> requested) {
        if (requested.isPresent()) {
            return requested;
        }
        if (policy.service(DATABASE_SERVICE).isPresent()) {
            return Optional.of(DATABASE_SERVICE);
        }
        List<String> clients = policy.services().stream()
                .filter(service -> service.mayHold(PostgresServerConfig.READ_SCOPE)
                        || service.mayHold(PostgresServerConfig.WRITE_SCOPE))
                .map(ServicePolicy::name).toList();
        if (clients.isEmpty()) {
            return Optional.empty();
        }
        throw new RenderException(RenderException.Reason.NO_DATABASE_SERVICE, "the policy " + policyFile + " gives "
                + clients + " db: scopes but has no service '" + DATABASE_SERVICE + "'; name the service that stands"
                + " for your database: --database-service <name>");
    }

    private record Rendered(Policy policy, DevCertificateAuthority ca, RedisAcl acl,
                            Optional<PostgresServerConfig> postgres, Optional<String> databaseService,
                            String relayGrants, boolean examplePolicyWritten) {
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
}
