package io.settler.zerotrust.testkit;

import io.settler.zerotrust.pki.DevCertificateAuthority;
import io.settler.zerotrust.pki.IssuedCertificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A small real Redis Cluster for tests: three masters, no replicas, each a {@link LocalRedis} on
 * {@code 127.0.0.1} with the same hardening (TLS 1.3 only, client certificates, no plaintext port,
 * ACL users only), plus {@code cluster-enabled yes}, {@code tls-cluster yes} (the cluster bus is
 * TLS with the node's certificate) and {@code tls-replication yes}.
 *
 * <p>Only nodes can join: the node certificates come from a node CA of their own
 * ({@link #nodeCertificateAuthority()}, same trust domain, SPIFFE ID {@link #nodeIdentity()}),
 * which each node trusts for everything, while the CA given to the builder (which issues the
 * {@link #clientCertificate client certificates}) is trusted for TLS clients only. A node
 * therefore refuses a cluster bus or replication peer whose certificate comes from the services'
 * CA, and a workload holding a service certificate cannot join the cluster. Clients verify the
 * nodes with the node CA and should expect {@link #nodeIdentity()}.
 *
 * <pre>{@code
 * try (LocalRedisCluster cluster = LocalRedisCluster.builder(ca)
 *         .user("worker", password, "~jobs:* +@read +@write")
 *         .start()) {
 *     // connect to cluster.uris() with cluster.clientCertificate("worker") and AUTH worker <password>
 * }
 * }</pre>
 *
 * <p>The testkit forms the cluster itself over TLS as its administrative user: each node gets a
 * third of the 16384 hash slots ({@code CLUSTER ADDSLOTSRANGE}), the first node meets the others
 * ({@code CLUSTER MEET} with the TLS cluster bus port), and {@link Builder#start()} returns once
 * every node reports {@code cluster_state:ok} with all slots assigned and all nodes known.
 * {@link #close()} stops every node and deletes their directories.
 */
public final class LocalRedisCluster implements AutoCloseable {

    /** The number of hash slots in a Redis Cluster. */
    public static final int SLOTS = 16384;

    private static final Logger LOG = LoggerFactory.getLogger(LocalRedisCluster.class);
    private static final int NODES = 3;

    /** The service name in the node certificates' SPIFFE ID. */
    static final String NODE_SERVICE = "redis";

    private final List<LocalRedis> nodes;
    private final DevCertificateAuthority nodeCa;

    private LocalRedisCluster(List<LocalRedis> nodes, DevCertificateAuthority nodeCa) {
        this.nodes = List.copyOf(nodes);
        this.nodeCa = nodeCa;
    }

    /**
     * Starts configuring a cluster whose certificates come from {@code ca}.
     *
     * @param ca issues the node certificates and the client certificates
     * @return the builder
     */
    public static Builder builder(DevCertificateAuthority ca) {
        return new Builder(ca);
    }

    /** The nodes, each a master serving a third of the hash slots. */
    public List<LocalRedis> nodes() {
        return nodes;
    }

    /**
     * The host name to connect to: {@code localhost}, which every node certificate names (as well as
     * {@code 127.0.0.1}).
     */
    public String host() {
        return nodes.get(0).host();
    }

    /** {@code rediss://localhost:<port>} for every node (seed URIs for a cluster client), no credentials. */
    public List<String> uris() {
        return nodes.stream().map(LocalRedis::uri).toList();
    }

    /** The CA given to the builder: it issues client certificates; nodes trust it for TLS clients only. */
    public DevCertificateAuthority certificateAuthority() {
        return nodes.get(0).certificateAuthority();
    }

    /** The CA that issued the node certificates (and nothing else): what clients trust to verify nodes. */
    public DevCertificateAuthority nodeCertificateAuthority() {
        return nodeCa;
    }

    /** The SPIFFE ID the node certificates carry, {@code spiffe://<trust-domain>/redis}: what clients expect. */
    public String nodeIdentity() {
        return "spiffe://" + nodeCa.trustDomain() + "/" + NODE_SERVICE;
    }

    /**
     * A client certificate for {@code service}, issued once by the CA and then reused; every node
     * accepts it.
     *
     * @param service the service name, which becomes the certificate's CN and SPIFFE path
     * @return the certificate with its chain and private key
     */
    public IssuedCertificate clientCertificate(String service) {
        return nodes.get(0).clientCertificate(service);
    }

    /** The ACL users of the cluster (without the testkit's own administrative user). */
    public Set<String> users() {
        return nodes.get(0).users();
    }

    /**
     * The password of an ACL user, the same on every node.
     *
     * @param user the user name
     * @return the password
     * @throws IllegalArgumentException if there is no such user
     */
    public String password(String user) {
        return nodes.get(0).password(user);
    }

    /**
     * Creates (or replaces) an ACL user on every node (ACLs are per node in Redis Cluster).
     *
     * @param name the user name
     * @param password the user's password; stored as a SHA-256 hash only
     * @param rules ACL rules, e.g. {@code "~jobs:* +@read"}
     * @throws TestkitException if a node refuses the rules
     */
    public void createUser(String name, String password, String rules) {
        for (LocalRedis node : nodes) {
            node.createUser(name, password, rules);
        }
    }

    /**
     * Restarts one node ({@link LocalRedis#restart()}: same port, bus port and files, so it keeps
     * its node ID, slots and the users of its ACL file) and waits until every node reports the
     * cluster healthy again. Users created with {@link #createUser} are in the ACL file
     * ({@code ACL SAVE}); users set with {@code ACL SETUSER} alone are gone, as in production.
     *
     * @param node the node's index, 0 to 2
     * @throws TestkitException if the node does not come back or the cluster does not heal in time
     */
    public void restart(int node) {
        nodes.get(Objects.checkIndex(node, NODES)).restart();
        for (LocalRedis member : nodes) {
            member.awaitReady(() -> formed(member.executeAsAdmin("CLUSTER", "INFO")));
        }
    }

    /** Stops every node and deletes its directory. Idempotent. */
    @Override
    public void close() {
        ServerLifecycle.closeAll(nodes);
    }

    /** Names the endpoints; never credentials. */
    @Override
    public String toString() {
        return "LocalRedisCluster" + nodes.stream().map(node -> node.host() + ":" + node.port()).toList();
    }

    private void form() {
        for (int i = 0; i < NODES; i++) {
            int first = i * SLOTS / NODES;
            int last = (i + 1) * SLOTS / NODES - 1;
            nodes.get(i).executeAsAdmin("CLUSTER", "ADDSLOTSRANGE", Integer.toString(first), Integer.toString(last));
        }
        LocalRedis seed = nodes.get(0);
        for (LocalRedis node : nodes.subList(1, NODES)) {
            seed.executeAsAdmin("CLUSTER", "MEET", "127.0.0.1", Integer.toString(node.port()),
                    Integer.toString(node.clusterBusPort()));
        }
        for (LocalRedis node : nodes) {
            node.awaitReady(() -> formed(node.executeAsAdmin("CLUSTER", "INFO")));
        }
    }

    /** Whether a {@code CLUSTER INFO} reply shows a healthy cluster with every slot and node. */
    static boolean formed(String clusterInfo) {
        return clusterInfo.contains("cluster_state:ok")
                && clusterInfo.contains("cluster_slots_ok:" + SLOTS)
                && clusterInfo.contains("cluster_known_nodes:" + NODES);
    }

    /** Configures and starts a {@link LocalRedisCluster}. */
    public static final class Builder {
        private final DevCertificateAuthority ca;
        private final Map<String, String[]> users = new LinkedHashMap<>();
        private final Map<Integer, String> nodeIdentities = new HashMap<>();
        private @Nullable String aclFile;
        private Duration startupTimeout = Duration.ofSeconds(30);

        private Builder(DevCertificateAuthority ca) {
            this.ca = Objects.requireNonNull(ca, "ca");
        }

        /**
         * Adds an ACL user on every node.
         *
         * @param name the user name
         * @param password the password; the nodes store its SHA-256 hash only
         * @param rules ACL rules, e.g. {@code "~jobs:* +@read"} ({@code on} and the password are added)
         * @return this builder
         */
        public Builder user(String name, String password, String rules) {
            LocalRedis.builder(ca).user(name, password, rules); // the same checks as a single server
            if (aclFile != null) {
                throw new IllegalArgumentException("give either aclFile(...) or user(...), not both");
            }
            users.put(name, new String[] {password, rules});
            return this;
        }

        /**
         * Starts every node from this ACL file, e.g. {@code RedisAcl.builder(policy).forCluster()...
         * .build().aclFile()}: each node keeps its own copy, loads it at every start and writes it
         * on {@code ACL SAVE}. The same checks as {@link LocalRedis.Builder#aclFile(String)}.
         *
         * @param content the file; it must turn the {@code default} user off
         * @return this builder
         * @throws IllegalArgumentException if users were also given with {@link #user}
         */
        public Builder aclFile(String content) {
            LocalRedis.builder(ca).aclFile(content); // the same checks as a single server
            if (!users.isEmpty()) {
                throw new IllegalArgumentException("give either aclFile(...) or user(...), not both");
            }
            this.aclFile = content;
            return this;
        }

        /**
         * Gives one node a certificate for another SPIFFE ID than {@code spiffe://<trust-domain>/redis}
         * (still from the node CA), to test that clients refuse a node that is not who they expect.
         *
         * @param node the node's index, 0 to 2
         * @param service the service name in its certificate's SPIFFE ID
         * @return this builder
         */
        public Builder nodeIdentity(int node, String service) {
            Objects.checkIndex(node, NODES);
            nodeIdentities.put(node, Objects.requireNonNull(service, "service"));
            return this;
        }

        /**
         * How long to wait for each node to answer and for the cluster to form (default 30 seconds).
         *
         * @param startupTimeout a positive duration
         * @return this builder
         */
        public Builder startupTimeout(Duration startupTimeout) {
            LocalRedis.builder(ca).startupTimeout(startupTimeout); // the same checks as a single server
            this.startupTimeout = startupTimeout;
            return this;
        }

        /**
         * Starts three cluster nodes, assigns the hash slots, joins the nodes and waits until
         * every node reports {@code cluster_state:ok}.
         *
         * @return the running cluster; close it when done
         * @throws TestkitException if a node does not start or the cluster does not form in time
         */
        public LocalRedisCluster start() {
            long started = System.nanoTime();
            List<LocalRedis> nodes = new ArrayList<>();
            DevCertificateAuthority nodeCa = DevCertificateAuthority.create(ca.trustDomain());
            try {
                for (int i = 0; i < NODES; i++) {
                    LocalRedis.Builder node = LocalRedis.builder(ca)
                            .clusterNode(nodeCa, nodeIdentities.getOrDefault(i, NODE_SERVICE))
                            .startupTimeout(startupTimeout);
                    users.forEach((name, secret) -> node.user(name, secret[0], secret[1]));
                    if (aclFile != null) {
                        node.aclFile(aclFile);
                    }
                    nodes.add(node.start());
                }
                LocalRedisCluster cluster = new LocalRedisCluster(nodes, nodeCa);
                cluster.form();
                LOG.info("Redis Cluster of {} nodes ready in {} ms: {}", NODES,
                        (System.nanoTime() - started) / 1_000_000, cluster);
                return cluster;
            } catch (RuntimeException | Error e) {
                try {
                    ServerLifecycle.closeAll(nodes);
                } catch (RuntimeException suppressed) {
                    e.addSuppressed(suppressed);
                }
                throw e;
            }
        }
    }
}
