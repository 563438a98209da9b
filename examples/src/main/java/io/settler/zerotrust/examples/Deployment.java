package io.settler.zerotrust.examples;

import io.settler.zerotrust.audit.AuditLog;
import io.settler.zerotrust.credentials.CredentialSource;
import io.settler.zerotrust.credentials.FileCredentialSource;
import io.settler.zerotrust.jdbc.PostgresMtlsDataSource;
import io.settler.zerotrust.policy.Policy;
import io.settler.zerotrust.policy.ServicePolicy;
import io.settler.zerotrust.queue.rabbitmq.RabbitMqConnections;
import io.settler.zerotrust.redis.HardenedRedis;
import io.settler.zerotrust.redis.PasswordSource;
import io.settler.zerotrust.tls.MtlsContext;
import io.settler.zerotrust.token.JwksSource;
import io.settler.zerotrust.token.KeySet;
import io.settler.zerotrust.token.KeySource;
import io.settler.zerotrust.token.TokenAlgorithm;
import io.settler.zerotrust.token.TokenKey;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Objects;
import java.util.Properties;

/**
 * What an example service is deployed with: one directory, as an orchestrator would mount it.
 *
 * <pre>
 * policy.json              who may do what (the same file renders pg_hba.conf and the Redis ACL)
 * ca.crt                   the trust anchors
 * &lt;service&gt;.crt / .key     the service's certificate and key (re-read when they change)
 * &lt;service&gt;.redis-password the service's Redis ACL password (re-read on each connect)
 * queue-setup.redis-password the password of the user that creates the consumer groups (setup only)
 * jwks/&lt;service&gt;.json      the public token keys each service publishes when it starts
 * webhook-signing.secret   the HMAC secret of outbound webhooks, shared with their receiver
 * endpoints.properties     where things are: postgres.host, postgres.port, postgres.database,
 *                          redis.host, redis.port, api.port, webhook.host, webhook.port, receiver.url;
 *                          the queue's transport, queue.transport=redis (default) or rabbitmq, and
 *                          for rabbitmq: rabbitmq.host, rabbitmq.port, rabbitmq.vhost
 * </pre>
 *
 * <p>Token signing keys never touch the disk: each service generates its own at start
 * ({@link #newTokenKeys}) and publishes only the public half, which its peers read, pinned to
 * its identity ({@link #publishedKeysOf}). Immutable; {@link #withEndpoint} gives a copy.
 */
public final class Deployment {

    /** The policy the demo deploys; also {@code examples/src/main/resources/.../policy.json}. */
    public static final String POLICY_RESOURCE = "/io/settler/zerotrust/examples/policy.json";

    /** The secret the webhook service signs outbound webhooks with, shared with the receiver. */
    public static final String WEBHOOK_SECRET_FILE = "webhook-signing.secret";

    /** How many earlier keys of a service {@link #newTokenKeys} keeps published beside the new one. */
    public static final int PUBLISHED_KEYS_KEPT = 3;

    /** The endpoint setting that picks the job queue's transport: {@code redis} (default) or {@code rabbitmq}. */
    public static final String QUEUE_TRANSPORT = "queue.transport";

    /** The endpoint setting of the RabbitMQ virtual host; {@code /} when missing. */
    public static final String RABBITMQ_VHOST = "rabbitmq.vhost";

    private static final SecureRandom RANDOM = new SecureRandom();

    private final Path directory;
    private final Policy policy;
    private final Properties endpoints;
    private final AuditLog audit;

    private Deployment(Path directory, Policy policy, Properties endpoints, AuditLog audit) {
        this.directory = directory;
        this.policy = policy;
        this.endpoints = endpoints;
        this.audit = audit;
    }

    /**
     * Reads {@code policy.json} and {@code endpoints.properties} (if present) from {@code directory}.
     *
     * @throws UncheckedIOException when a file cannot be read
     */
    public static Deployment at(Path directory) {
        Objects.requireNonNull(directory, "directory");
        Properties endpoints = new Properties();
        Path file = directory.resolve("endpoints.properties");
        if (Files.exists(file)) {
            try (InputStream in = Files.newInputStream(file)) {
                endpoints.load(in);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + file, e);
            }
        }
        return new Deployment(directory, Policy.fromJson(directory.resolve("policy.json")), endpoints,
                AuditLog.slf4j());
    }

    /**
     * Copies the bundled example policy into {@code directory} as {@code policy.json}; never over
     * a policy already there.
     *
     * @throws UncheckedIOException if it cannot be written, or {@code policy.json} exists
     */
    public static void writeExamplePolicy(Path directory) {
        try (InputStream policy = Deployment.class.getResourceAsStream(POLICY_RESOURCE)) {
            Files.copy(Objects.requireNonNull(policy, POLICY_RESOURCE), directory.resolve("policy.json"));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + directory.resolve("policy.json"), e);
        }
    }

    /** The directory. */
    public Path directory() {
        return directory;
    }

    /** The policy all services share. */
    public Policy policy() {
        return policy;
    }

    /** Where audit events go (SLF4J unless {@link #withAuditLog} says otherwise). */
    public AuditLog auditLog() {
        return audit;
    }

    /** A copy whose services send audit events to {@code audit}. */
    public Deployment withAuditLog(AuditLog audit) {
        return new Deployment(directory, policy, endpoints, Objects.requireNonNull(audit, "audit"));
    }

    /** A copy with one endpoint setting changed (in memory; the file is not written). */
    public Deployment withEndpoint(String key, String value) {
        Properties copy = new Properties();
        copy.putAll(endpoints);
        copy.setProperty(key, value);
        return new Deployment(directory, policy, copy, audit);
    }

    /** Writes the endpoint settings to {@code endpoints.properties}, for services started as separate processes. */
    public void saveEndpoints() {
        try (var out = Files.newOutputStream(directory.resolve("endpoints.properties"))) {
            endpoints.store(out, "Settler Zero Trust example endpoints");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write endpoints.properties in " + directory, e);
        }
    }

    /**
     * An endpoint setting.
     *
     * @throws IllegalStateException naming the key and the file when it is missing
     */
    public String endpoint(String key) {
        String value = endpoints.getProperty(key);
        if (value == null || value.isBlank()) {
            throw new IllegalStateException("no '" + key + "' in " + directory.resolve("endpoints.properties"));
        }
        return value.trim();
    }

    /** An endpoint's {@code <name>.host} (default 127.0.0.1) and {@code <name>.port}. */
    public InetSocketAddress address(String name) {
        String host = endpoints.getProperty(name + ".host", "127.0.0.1").trim();
        return InetSocketAddress.createUnresolved(host, Integer.parseInt(endpoint(name + ".port")));
    }

    /**
     * The port {@code <name>.port} to listen on: 0 (a free port) when it is missing.
     *
     * @throws IllegalStateException naming the file when it is not a port number
     */
    public int listenPort(String name) {
        String port = endpoints.getProperty(name + ".port", "0").trim();
        try {
            int number = Integer.parseInt(port);
            if (number < 0 || number > 65535) {
                throw new NumberFormatException("out of range");
            }
            return number;
        } catch (NumberFormatException e) {
            throw new IllegalStateException(name + ".port in " + directory.resolve("endpoints.properties")
                    + " is not a port number: '" + port + "'", e);
        }
    }

    /**
     * A PostgreSQL pool builder for {@code service}: the database endpoint, the service's role (to
     * which pg_ident.conf maps its certificate's CN, the whole SPIFFE ID), its credentials and this
     * deployment's audit log.
     * Add pool settings, then {@code build()}.
     */
    public PostgresMtlsDataSource.Builder postgres(String service, CredentialSource credentials) {
        InetSocketAddress postgres = address("postgres");
        return PostgresMtlsDataSource.builder().host(postgres.getHostString()).port(postgres.getPort())
                .database(endpoint("postgres.database")).role(service).credentials(credentials).auditLog(audit);
    }

    /**
     * A Redis client builder for {@code service}: the Redis endpoint, the service's ACL user and
     * password file, its credentials and this deployment's audit log. Then {@code build()}.
     */
    public HardenedRedis.Builder redis(String service, CredentialSource credentials) {
        InetSocketAddress redis = address("redis");
        return HardenedRedis.builder().host(redis.getHostString()).port(redis.getPort())
                .user(service).password(redisPassword(service)).credentials(credentials).auditLog(audit);
    }

    /**
     * The job queue's transport, {@value #QUEUE_TRANSPORT} in the endpoints: {@code redis} when missing.
     *
     * @throws IllegalStateException naming the file when it is neither {@code redis} nor {@code rabbitmq}
     */
    public QueueTransport queueTransport() {
        String transport = endpoints.getProperty(QUEUE_TRANSPORT, "redis").trim();
        return switch (transport) {
            case "redis" -> QueueTransport.REDIS;
            case "rabbitmq" -> QueueTransport.RABBITMQ;
            default -> throw new IllegalStateException(QUEUE_TRANSPORT + " in " + directory.resolve(
                    "endpoints.properties") + " is '" + transport + "': set redis (Redis Streams) or rabbitmq");
        };
    }

    /**
     * RabbitMQ connections of the service whose {@code credentials} these are: TLS 1.3 with its
     * certificate, the broker's host name verified, login by that certificate (SASL EXTERNAL: the
     * broker's user is its SPIFFE ID), at {@code rabbitmq.host} (default 127.0.0.1),
     * {@code rabbitmq.port} and {@value #RABBITMQ_VHOST}, audited to this deployment's log.
     */
    public RabbitMqConnections rabbitMq(CredentialSource credentials) {
        InetSocketAddress rabbit = address("rabbitmq");
        return RabbitMqConnections.builder(MtlsContext.client(credentials).auditLog(audit).build())
                .host(rabbit.getHostString()).port(rabbit.getPort())
                .virtualHost(endpoints.getProperty(RABBITMQ_VHOST, "/").trim()).auditLog(audit).build();
    }

    /** The SPIFFE ID of a service of the policy, e.g. {@code spiffe://demo.settler.test/api}. */
    public String identity(String service) {
        return servicePolicy(service).identity().toString();
    }

    /** A service of the policy. */
    public ServicePolicy servicePolicy(String service) {
        return policy.service(service).orElseThrow(() -> new IllegalArgumentException(
                "the policy in " + directory + " has no service '" + service + "'"));
    }

    /**
     * The service's certificate, key and trust anchors, watched for rotation. The caller closes it.
     */
    public FileCredentialSource credentials(String service) {
        return FileCredentialSource.builder(directory.resolve(service + ".crt"), directory.resolve(service + ".key"),
                directory.resolve("ca.crt")).auditLog(audit).start();
    }

    /** The service's Redis ACL password, read from its file on each connect. */
    public PasswordSource redisPassword(String service) {
        return PasswordSource.fromFile(directory.resolve(service + ".redis-password"));
    }

    /** The secret of outbound webhook signatures ({@value #WEBHOOK_SECRET_FILE}), as its bytes. */
    public byte[] webhookSigningSecret() {
        try {
            return Files.readString(directory.resolve(WEBHOOK_SECRET_FILE), StandardCharsets.UTF_8).strip()
                    .getBytes(StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + directory.resolve(WEBHOOK_SECRET_FILE), e);
        }
    }

    /**
     * Generates the service's token signing key (Ed25519, in memory only) and publishes its public
     * half in {@code jwks/<service>.json}, in front of the {@value #PUBLISHED_KEYS_KEPT} newest keys
     * published before: tokens signed by an earlier start (jobs still queued) or by another instance
     * of the service keep verifying.
     *
     * @return the key set to sign with
     */
    public KeySet newTokenKeys(String service) {
        TokenKey key = TokenKey.generate(TokenAlgorithm.ED25519,
                service + "-" + Instant.now().getEpochSecond() + "-"
                        + HexFormat.of().toHexDigits((short) RANDOM.nextInt()));
        try {
            Path jwks = directory.resolve("jwks");
            Files.createDirectories(jwks);
            Path published = jwks.resolve(service + ".json");
            KeySet.Builder keys = KeySet.builder().add(key.verifyOnly());
            if (Files.exists(published)) {
                KeySet.fromJwks(Files.readString(published, StandardCharsets.UTF_8)).keys().stream()
                        .limit(PUBLISHED_KEYS_KEPT).forEach(keys::add);
            }
            Path temporary = Files.createTempFile(jwks, service, ".tmp");
            Files.writeString(temporary, keys.build().toJwks(), StandardCharsets.UTF_8);
            Files.move(temporary, published, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot publish the token keys of " + service + " in " + directory, e);
        }
        return KeySet.builder().signingKey(key).build();
    }

    /**
     * The public token keys {@code service} published, trusted for tokens issued by that service
     * only; read again when a token names a key id not seen yet (a restarted, re-keyed peer).
     */
    public KeySource publishedKeysOf(String service) {
        Path file = directory.resolve("jwks").resolve(service + ".json");
        return JwksSource.builder(() -> {
            try {
                return Files.readString(file, StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read the published keys of " + service + ": " + file, e);
            }
        }).pinnedTo(identity(service)).cooldown(Duration.ofSeconds(1)) // a local file is cheap to re-read
                .auditLog(audit).build();
    }

    @Override
    public String toString() {
        return "Deployment[" + directory + ", trust domain " + policy.trustDomain() + "]";
    }
}
