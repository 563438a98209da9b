package io.settler.zerotrust.redis;

import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.cluster.ClusterClientOptions;
import io.lettuce.core.cluster.ClusterTopologyRefreshOptions;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import io.lettuce.core.cluster.models.partitions.RedisClusterNode;
import io.lettuce.core.resource.ClientResources;
import io.settler.zerotrust.audit.AuditLog;
import io.settler.zerotrust.identity.ServiceIdentity;
import io.settler.zerotrust.tls.MtlsContext;
import java.time.Duration;
import java.util.Set;

/**
 * A Lettuce Redis Cluster client with exactly the settings and checks of {@link HardenedRedis}:
 * built by {@link HardenedRedis.Builder#buildCluster()}, whose host and port name a seed node.
 * Every node connection (the seed, the nodes learned from the topology, reconnects) uses TLS with
 * core's trust manager, the client certificate and the ACL login; every handshake is checked and
 * audited. {@link #connect()} opens a connection to every master and proves each like
 * {@link HardenedRedis#connect()} ({@code ACL WHOAMI} and the TLS version of its channel). Nodes
 * that join later are connected on first use and checked by the handshake guard, not proven.
 *
 * <pre>{@code
 * HardenedRedisCluster cluster = HardenedRedis.builder()
 *         .uri("rediss://cache-0.internal:6380")          // any node; the others are discovered
 *         .expectedServer("spiffe://example.org/redis")    // required: what every node certificate carries
 *         .user("api").password(passwords).credentials(credentials)
 *         .buildCluster();
 * StatefulRedisClusterConnection<String, String> connection = cluster.connect();
 * }</pre>
 *
 * <p>Cluster defaults on top of {@link HardenedRedis}'s: the topology is refreshed every
 * 30 seconds and on MOVED/ASK redirects and reconnects; at most 5 redirects per command.
 *
 * <p><b>Node identity is required:</b> {@link HardenedRedis.Builder#expectedServer(String)} must be
 * the SPIFFE ID every node certificate carries (e.g. {@code spiffe://example.org/redis}), or
 * {@code buildCluster()} refuses ({@code INVALID_CONFIGURATION}). Core's trust manager checks it on
 * every handshake: the seed, the nodes learned from the topology or a MOVED/ASK redirect, and
 * reconnects. A certificate that merely names the announced address (any workload's may) is refused
 * ({@code HANDSHAKE_FAILED}, {@code redis.tls.refused}).
 * Immutable and thread-safe; {@link #close()} shuts the client and its threads down.
 */
public final class HardenedRedisCluster implements AutoCloseable {

    private static final Duration TOPOLOGY_REFRESH = Duration.ofSeconds(30);
    private static final int MAX_REDIRECTS = 5;

    private final String host;
    private final int port;
    private final String user;
    private final String identity;
    private final Set<String> allowedProtocols;
    private final AuditLog audit;
    private final TlsHandshakeGuard guard;
    private final ClientResources resources;
    private final RedisClusterClient client;

    HardenedRedisCluster(HardenedRedis.Builder builder, MtlsContext tls) {
        this.identity = requireNodeIdentity(builder);
        this.host = builder.checkedHost();
        this.port = builder.port;
        this.user = builder.checkedUser();
        this.audit = builder.audit;
        this.allowedProtocols = builder.allowedProtocols();
        this.guard = new TlsHandshakeGuard(allowedProtocols, tls, audit);
        this.resources = builder.resources(guard);
        this.client = RedisClusterClient.create(resources, builder.redisUri());
        ClusterClientOptions.Builder options = builder.applyClientOptions(ClusterClientOptions.builder(), tls);
        // Every adaptive refresh trigger as well: Lettuce 7's default (hence its deprecated enableAll...).
        options.maxRedirects(MAX_REDIRECTS)
                .topologyRefreshOptions(ClusterTopologyRefreshOptions.builder()
                        .enablePeriodicRefresh(TOPOLOGY_REFRESH)
                        .build());
        client.setOptions(options.build());
        builder.recordPosture(tls, RedisAudit.CLUSTER_POSTURE, RedisAudit.CLUSTER_POSTURE_WEAKENED);
    }

    /**
     * Refuses a cluster client without a SPIFFE ID for the nodes: the nodes it talks to come from
     * the topology, which the nodes themselves gossip, and any certificate of the trust domain may
     * name the address a node announces (127.0.0.1, a pod IP). Only the identity that the node CA
     * issues to Redis nodes tells a node from a workload that joined the cluster.
     */
    private static String requireNodeIdentity(HardenedRedis.Builder builder) {
        String identity = builder.expectedServer.orElse("");
        String problem = null;
        if (!identity.startsWith("spiffe://")) {
            problem = identity.isEmpty() ? "no node identity is set"
                    : "expectedServer is a host name or address, which any certificate of the trust domain may name";
        } else {
            try {
                ServiceIdentity.parse(identity);
            } catch (RuntimeException e) {
                problem = "expectedServer is not a valid SPIFFE ID";
            }
        }
        if (problem != null) {
            throw builder.audit.event(RedisAudit.CONNECTION_REFUSED).field("server", builder.host + ":" + builder.port)
                    .field("user", builder.checkedUser())
                    .refused(new RedisTlsException(RedisTlsException.Reason.INVALID_CONFIGURATION, "a Redis Cluster"
                            + " client must verify every node's identity: " + problem + "; set expectedServer(\"spiffe:"
                            + "//<trust-domain>/<redis>\") to the SPIFFE ID the node certificates carry (issued by the"
                            + " node CA only)"));
        }
        return identity;
    }

    /**
     * Connects to the cluster with string keys and values, and proves the connection.
     *
     * @throws RedisTlsException if the handshake, the login or the proof fails
     */
    public StatefulRedisClusterConnection<String, String> connect() {
        StatefulRedisClusterConnection<String, String> connection;
        try {
            connection = client.connect();
        } catch (RuntimeException e) {
            RedisTlsException.Reason reason = classify(e);
            String hint = refusedByAcl(e) ? "the ACL user '" + user + "' may not run what the cluster client needs"
                    + " (NOPERM): render its ACL with RedisAcl.builder(policy).forCluster(), or grant"
                    + " RedisAcl.clusterClientRules(), on every node; "
                    : HardenedRedis.connectHint(e, host, port).map(why -> why + "; ")
                    .orElse(reason == RedisTlsException.Reason.HANDSHAKE_FAILED ? "the seed's certificate must carry "
                            + identity + " and chain to the trusted node CA (see redis.tls.refused); " : "");
            throw audit.event(RedisAudit.CONNECTION_REFUSED).field("server", host + ":" + port).field("user", user)
                    .refused(new RedisTlsException(reason, "cannot connect to " + this + ": " + hint
                            + HardenedRedis.describe(e), e));
        }
        try {
            // Open and prove every master's connection now: commands routed to a node whose
            // connection is still opening would be rejected (REJECT_COMMANDS), and each node is a
            // separate TLS channel and login to check.
            for (RedisClusterNode node : connection.getPartitions()) {
                String server = node.getUri().getHost() + ":" + node.getUri().getPort();
                StatefulRedisConnection<String, String> nodeConnection;
                try {
                    // By host and port: the connection that slot routing uses for writes.
                    nodeConnection = connection.getConnection(node.getUri().getHost(), node.getUri().getPort());
                } catch (RuntimeException e) {
                    String why = HardenedRedis.connectHint(e, node.getUri().getHost(), node.getUri().getPort())
                            .orElse("its certificate must carry " + identity + " and chain to the trusted node CA");
                    throw audit.event(RedisAudit.CONNECTION_REFUSED).field("server", server).field("user", user)
                            .refused(new RedisTlsException(HardenedRedis.classify(e), "cannot connect to node "
                                    + server + " of " + this + " (a node the topology names): " + why + ": "
                                    + HardenedRedis.describe(e), e));
                }
                HardenedRedis.prove(nodeConnection.sync()::aclWhoami, nodeConnection.sync()::clientInfo,
                        toString() + " node " + server, server, user, allowedProtocols, guard, audit);
            }
            return connection;
        } catch (RuntimeException e) {
            connection.close();
            throw e;
        }
    }

    /** Whether a NOPERM reply sits in the chain (Lettuce puts each seed node's failure in the message). */
    private static boolean refusedByAcl(Throwable e) {
        return HardenedRedis.failures(e).anyMatch(t -> String.valueOf(t.getMessage()).contains("NOPERM"));
    }

    /**
     * The reason of a failed cluster connect: Lettuce reports each seed node's failure (e.g. the
     * handshake) as a suppressed exception of a generic one, so those are read as well.
     */
    private static RedisTlsException.Reason classify(Throwable e) {
        return HardenedRedis.failures(e).map(HardenedRedis::classify)
                .filter(reason -> reason != RedisTlsException.Reason.CONNECTION_FAILED)
                .findFirst().orElse(RedisTlsException.Reason.CONNECTION_FAILED);
    }

    /** The underlying cluster client; its connections are not proven by {@link #connect()}. */
    public RedisClusterClient client() {
        return client;
    }

    /** The ACL user this client logs in as. */
    public String user() {
        return user;
    }

    /**
     * Shuts the client and its threads down (not those of
     * {@link HardenedRedis.Builder#clientResources}, which you own).
     */
    @Override
    public void close() {
        client.shutdown();
        resources.shutdown();
    }

    /** Seed node, node identity and user; never the password. */
    @Override
    public String toString() {
        return "HardenedRedisCluster[rediss://" + host + ":" + port + ", nodes=" + identity + ", user=" + user + "]";
    }
}
