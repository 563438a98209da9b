package io.settler.zerotrust.redis;

import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.cluster.ClusterClientOptions;
import io.lettuce.core.cluster.ClusterTopologyRefreshOptions;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import io.lettuce.core.cluster.models.partitions.RedisClusterNode;
import io.lettuce.core.resource.ClientResources;
import io.settler.zerotrust.audit.AuditLog;
import io.settler.zerotrust.tls.MtlsContext;
import java.time.Clock;
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
 *         .user("api").password(passwords).credentials(credentials)
 *         .buildCluster();
 * StatefulRedisClusterConnection<String, String> connection = cluster.connect();
 * }</pre>
 *
 * <p>Cluster defaults on top of {@link HardenedRedis}'s: the topology is refreshed every
 * 30 seconds and on MOVED/ASK redirects and reconnects; at most 5 redirects per command. The
 * nodes must name the addresses they announce in their certificates (or use
 * {@link HardenedRedis.Builder#expectedServer(String)} with an identity all nodes share).
 * Immutable and thread-safe; {@link #close()} shuts the client and its threads down.
 */
public final class HardenedRedisCluster implements AutoCloseable {

    private static final Duration TOPOLOGY_REFRESH = Duration.ofSeconds(30);
    private static final int MAX_REDIRECTS = 5;

    private final String host;
    private final int port;
    private final String user;
    private final Set<String> allowedProtocols;
    private final AuditLog audit;
    private final Clock clock;
    private final TlsHandshakeGuard guard;
    private final ClientResources resources;
    private final RedisClusterClient client;

    HardenedRedisCluster(HardenedRedis.Builder builder, MtlsContext tls) {
        this.host = builder.host;
        this.port = builder.port;
        this.user = builder.user;
        this.audit = builder.audit;
        this.clock = builder.clock;
        this.allowedProtocols = builder.allowedProtocols();
        this.guard = new TlsHandshakeGuard(allowedProtocols, tls, audit, clock);
        this.resources = builder.resources(guard);
        this.client = RedisClusterClient.create(resources, builder.redisUri());
        ClusterClientOptions.Builder options = builder.applyClientOptions(ClusterClientOptions.builder(), tls);
        options.maxRedirects(MAX_REDIRECTS)
                .topologyRefreshOptions(ClusterTopologyRefreshOptions.builder()
                        .enablePeriodicRefresh(TOPOLOGY_REFRESH)
                        .enableAllAdaptiveRefreshTriggers()
                        .build());
        client.setOptions(options.build());
        builder.recordPosture(tls, "redis.cluster.posture");
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
            String hint = refusedByAcl(e) ? "the ACL user '" + user + "' may not run what the cluster client needs"
                    + " (NOPERM): render its ACL with RedisAcl.builder(policy).forCluster(), or grant"
                    + " RedisAcl.clusterClientRules(), on every node; " : "";
            throw HardenedRedis.refuse(HardenedRedis.classify(e), "cannot connect to " + this + ": " + hint
                    + HardenedRedis.describe(e), e, host + ":" + port, user, audit, clock);
        }
        try {
            // Open and prove every master's connection now: commands routed to a node whose
            // connection is still opening would be rejected (REJECT_COMMANDS), and each node is a
            // separate TLS channel and login to check.
            for (RedisClusterNode node : connection.getPartitions()) {
                // By host and port: the connection that slot routing uses for writes.
                StatefulRedisConnection<String, String> nodeConnection =
                        connection.getConnection(node.getUri().getHost(), node.getUri().getPort());
                String server = node.getUri().getHost() + ":" + node.getUri().getPort();
                HardenedRedis.prove(nodeConnection.sync()::aclWhoami, nodeConnection.sync()::clientInfo,
                        toString() + " node " + server, server, user, allowedProtocols, guard, audit, clock);
            }
            return connection;
        } catch (RuntimeException e) {
            connection.close();
            throw e;
        }
    }

    /** Whether a NOPERM reply sits in the chain (Lettuce puts each seed node's failure in the message). */
    private static boolean refusedByAcl(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (String.valueOf(t.getMessage()).contains("NOPERM")) {
                return true;
            }
            for (Throwable suppressed : t.getSuppressed()) {
                if (String.valueOf(suppressed.getMessage()).contains("NOPERM")) {
                    return true;
                }
            }
        }
        return false;
    }

    /** The underlying cluster client; its connections are not proven by {@link #connect()}. */
    public RedisClusterClient client() {
        return client;
    }

    /** The ACL user this client logs in as. */
    public String user() {
        return user;
    }

    /** Shuts the client and its threads down. */
    @Override
    public void close() {
        client.shutdown();
        resources.shutdown();
    }

    /** Seed node and user; never the password. */
    @Override
    public String toString() {
        return "HardenedRedisCluster[rediss://" + host + ":" + port + ", user=" + user + "]";
    }
}
