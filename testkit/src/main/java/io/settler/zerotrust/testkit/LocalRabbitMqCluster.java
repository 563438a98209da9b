package io.settler.zerotrust.testkit;

import io.settler.zerotrust.pki.DevCertificateAuthority;
import io.settler.zerotrust.pki.IssuedCertificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.regex.Pattern;
import java.util.stream.IntStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A small real RabbitMQ cluster for tests: three {@link LocalRabbitMq} nodes with the same hardening
 * (TLS 1.3 only, client certificates, login by certificate only, the same definitions), one cookie
 * and one private epmd, joined into one cluster, so quorum queues have three members and a test can
 * {@link #stop(int) stop} one node while messages flow.
 *
 * <pre>{@code
 * try (LocalRabbitMqCluster cluster = LocalRabbitMqCluster.builder(ca).definitions(json).start()) {
 *     // connect to any of cluster.nodes() (node.host():node.tlsPort()) with cluster.clientCertificate("worker")
 *     cluster.stop(1);   // the other two keep a quorum queue available
 *     cluster.start(1);  // rejoins, catches up
 * }
 * }</pre>
 *
 * <p>Node 0 boots alone and the two others join it on their first boot (classic config peer
 * discovery, retrying while node 0 is still booting); node 1 starts with node 0, node 2 once node 1
 * has joined, as two nodes joining at once can crash one of them. {@link Builder#start()}
 * returns once every node reports all three running and its virtual hosts up. The nodes talk to each other over Erlang
 * distribution on loopback, authenticated by the shared cookie (not TLS: clients never reach it).
 * {@link #close()} stops every node and the epmd, and deletes their directories.
 */
public final class LocalRabbitMqCluster implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(LocalRabbitMqCluster.class);
    private static final int NODES = 3;
    /** Prints how many cluster members run, as a node sees it. */
    private static final String RUNNING_NODES = "length(rabbit_nodes:all_running()).";
    /** Prints the virtual hosts not running on a node, as Erlang binaries ({@code [<<"jobs">>]}). */
    private static final String VHOSTS_DOWN = "[V || V <- rabbit_vhost:list_names(),"
            + " not rabbit_vhost_sup_sup:is_vhost_alive(V)].";
    private static final Pattern ERLANG_BINARY = Pattern.compile("<<\"([^\"]*)\">>");
    /** How long a virtual host may stay down after the cluster (re)formed before it is restarted. */
    private static final Duration VHOST_GRACE = Duration.ofSeconds(15);

    private final List<LocalRabbitMq> nodes;
    private final Epmd epmd;

    private LocalRabbitMqCluster(List<LocalRabbitMq> nodes, Epmd epmd) {
        this.nodes = List.copyOf(nodes);
        this.epmd = epmd;
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

    /** The three nodes; each serves TLS clients on its own port. */
    public List<LocalRabbitMq> nodes() {
        return nodes;
    }

    /**
     * One node.
     *
     * @param node the node's index, 0 to 2
     * @return the node
     */
    public LocalRabbitMq node(int node) {
        return nodes.get(Objects.checkIndex(node, NODES));
    }

    /** The CA that issued the node certificates and issues client certificates. */
    public DevCertificateAuthority certificateAuthority() {
        return nodes.get(0).certificateAuthority();
    }

    /**
     * A client certificate for {@code service}, issued once by the CA and then reused; every node
     * logs its holder in as {@code spiffe://<trust-domain>/<service>} if the definitions have that user.
     *
     * @param service the service name
     * @return the certificate with its chain and private key
     */
    public IssuedCertificate clientCertificate(String service) {
        return nodes.get(0).clientCertificate(service);
    }

    /**
     * Stops one node gracefully ({@link LocalRabbitMq#stop()}); the others keep serving, and keep
     * quorum queues available (two of three members).
     *
     * @param node the node's index, 0 to 2
     */
    public void stop(int node) {
        node(node).stop();
    }

    /**
     * Kills one node with SIGKILL, like a crash ({@link LocalRabbitMq#kill()}).
     *
     * @param node the node's index, 0 to 2
     */
    public void kill(int node) {
        node(node).kill();
    }

    /**
     * Starts a stopped or killed node again (same name, ports and files) and waits until every
     * node reports all three running again, with every virtual host up on each (one still down
     * after 15 s is restarted).
     *
     * @param node the node's index, 0 to 2
     * @throws TestkitException if it does not come back or rejoin in time
     */
    public void start(int node) {
        node(node).start();
        awaitFormed();
    }

    /**
     * How many cluster members run, as one node sees it ({@code rabbit_nodes:all_running()}).
     *
     * @param node the index of the node to ask, 0 to 2; it must be running
     * @return the number of running members, itself included
     */
    public int runningNodes(int node) {
        return Integer.parseInt(node(node).rabbitmqctl("eval", RUNNING_NODES).strip());
    }

    /**
     * Waits until every quorum queue named has a member online on each of the three nodes. A quorum
     * queue is declared with a member on every node, but a member whose Raft server did not start in
     * time (seen on a loaded machine) stays offline; with one more node stopped, such a queue has no
     * majority and the broker nacks every publish. Declare the queues, then call this; when it returns
     * false, delete and declare them again.
     *
     * @param vhost the queues' virtual host
     * @param timeout how long to wait
     * @param queues the quorum queues' names
     * @return whether all of them had three members online within {@code timeout}
     */
    public boolean awaitQuorumMembersOnline(String vhost, Duration timeout, String... queues) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            String listing = runningNode().rabbitmqctl("list_queues", "-p", vhost, "--no-table-headers", "name",
                    "online");
            if (Arrays.stream(queues).allMatch(queue -> onlineMembers(listing, queue) == NODES)) {
                return true;
            }
            if (System.nanoTime() - deadline > 0) {
                LOG.warn("quorum queues not on every node after {}: {}", timeout, listing.strip());
                return false;
            }
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
    }

    /** The members online of {@code queue} in a {@code list_queues name online} listing ({@code rabbit@host}s). */
    private static long onlineMembers(String listing, String queue) {
        return listing.lines().filter(line -> line.startsWith(queue + "\t")).findFirst()
                .map(line -> line.chars().filter(c -> c == '@').count()).orElse(0L);
    }

    private LocalRabbitMq runningNode() {
        return nodes.stream().filter(LocalRabbitMq::isRunning).findFirst()
                .orElseThrow(() -> new IllegalStateException("no node of the cluster runs"));
    }

    /** Stops every node and the epmd, and deletes their directories. Idempotent. */
    @Override
    public void close() {
        closeAll(nodes, epmd);
    }

    /** Names the nodes and endpoints; never the cookie. */
    @Override
    public String toString() {
        return "LocalRabbitMqCluster" + nodes.stream().map(node -> node.nodeName() + "=" + node.host() + ":"
                + node.tlsPort()).toList();
    }

    /** The epmd the nodes share (for the testkit's own tests). */
    ProcessHandle epmdProcess() {
        return epmd.process();
    }

    private void awaitFormed() {
        for (int i = 0; i < NODES; i++) {
            int member = i;
            nodes.get(i).awaitReady(() -> runningNodes(member) == NODES);
        }
        awaitVirtualHostsUp();
    }

    /**
     * Waits until every virtual host runs on every running node, restarting one still down after
     * 15 s: a test that follows one which stopped a member starts on a whole cluster.
     *
     * @throws TestkitException if one does not come up within the nodes' start-up timeout
     */
    public void awaitVirtualHostsUp() {
        for (int i = 0; i < NODES; i++) {
            int member = i;
            if (nodes.get(i).isRunning()) {
                long restartAfter = System.nanoTime() + VHOST_GRACE.toNanos();
                nodes.get(i).awaitReady(() -> virtualHostsUp(member, restartAfter));
            }
        }
    }

    /**
     * Whether every virtual host runs on the node. When a member stops or rejoins, a survivor's virtual
     * host can go down (its logins refused with "vhost is down"); on a loaded machine one was seen to stay
     * down for minutes, failing the next test's first connection. After {@link #VHOST_GRACE} the down ones
     * are restarted, as an operator would ({@code rabbitmqctl restart_vhost}).
     */
    private boolean virtualHostsUp(int node, long restartAfter) {
        LocalRabbitMq member = nodes.get(node);
        List<String> down = ERLANG_BINARY.matcher(member.rabbitmqctl("eval", VHOSTS_DOWN)).results()
                .map(match -> match.group(1)).toList();
        if (down.isEmpty()) {
            return true;
        }
        if (System.nanoTime() - restartAfter > 0) {
            LOG.warn("virtual hosts {} down on {}; restarting them", down, member.nodeName());
            for (String vhost : down) {
                member.rabbitmqctl("restart_vhost", "-p", vhost);
            }
        }
        return false;
    }

    /** The nodes, then the epmd they deregister from as they stop. */
    private static void closeAll(List<LocalRabbitMq> nodes, Epmd epmd) {
        List<AutoCloseable> all = new ArrayList<>(nodes);
        all.add(epmd);
        ServerLifecycle.closeAll(all);
    }

    /** Configures and starts a {@link LocalRabbitMqCluster}. */
    public static final class Builder {
        private static final int JOIN_ATTEMPTS = 3;
        private static final String PEER_NOT_ACTIVE = "All replicas on diskfull nodes are not active yet";

        private final DevCertificateAuthority ca;
        private String definitions = "{}";

        private Duration startupTimeout = Duration.ofMinutes(3);

        private Builder(DevCertificateAuthority ca) {
            this.ca = Objects.requireNonNull(ca, "ca");
        }

        /**
         * The definitions file every node loads at start; the same checks as
         * {@link LocalRabbitMq.Builder#definitions(String)}.
         *
         * @param json the definitions document
         * @return this builder
         */
        public Builder definitions(String json) {
            LocalRabbitMq.builder(ca).definitions(json); // the same checks as a single node
            this.definitions = json;
            return this;
        }

        /**
         * How long to wait for each node to serve and for the cluster to form (default 3 minutes:
         * three Erlang VMs booting at once on a small machine).
         *
         * @param startupTimeout a positive duration
         * @return this builder
         */
        public Builder startupTimeout(Duration startupTimeout) {
            LocalRabbitMq.builder(ca).startupTimeout(startupTimeout); // the same checks as a single node
            this.startupTimeout = startupTimeout;
            return this;
        }

        /**
         * Starts one member; a member that exits because a peer's feature-flag replicas are not active yet
         * (RabbitMQ 3.10 refuses to join then, seen under load even with the members started one by one)
         * is started again, from a fresh directory, at most {@value #JOIN_ATTEMPTS} times in all.
         */
        private static LocalRabbitMq startMember(LocalRabbitMq.Builder node) {
            for (int attempt = 1; ; attempt++) {
                try {
                    return node.start();
                } catch (TestkitException e) {
                    String message = e.getMessage();
                    if (attempt == JOIN_ATTEMPTS || message == null || !message.contains(PEER_NOT_ACTIVE)) {
                        throw e;
                    }
                    LOG.warn("a RabbitMQ cluster member could not join yet ({}); starting it again", PEER_NOT_ACTIVE);
                    try {
                        Thread.sleep(2_000);
                    } catch (InterruptedException interrupted) {
                        Thread.currentThread().interrupt();
                        e.addSuppressed(interrupted);
                        throw e;
                    }
                }
            }
        }

        /**
         * Starts the epmd and three nodes, node 0 as the seed the others join, and waits until
         * every node reports all three running.
         *
         * @return the running cluster; close it when done
         * @throws TestkitException if a node does not start or the cluster does not form in time
         */
        public LocalRabbitMqCluster start() {
            long started = System.nanoTime();
            Epmd epmd = Epmd.start(Binaries.rabbitMq().epmd(), ServerUser.forRabbitMq(), startupTimeout);
            String cookie = ServerDirectory.randomSecret();
            String prefix = "zt-" + ServerDirectory.randomSecret().substring(0, 8) + "-";
            List<String> names = IntStream.range(0, NODES).mapToObj(i -> prefix + i + "@localhost").toList();
            List<LocalRabbitMq> nodes = new ArrayList<>();
            ExecutorService starter = Executors.newFixedThreadPool(NODES);
            try {
                List<CompletableFuture<LocalRabbitMq>> starts = new ArrayList<>();
                for (int i = 0; i < NODES; i++) {
                    LocalRabbitMq.Builder node = LocalRabbitMq.builder(ca).definitions(definitions)
                            .startupTimeout(startupTimeout)
                            .clusterMember(epmd, cookie, names.get(i), i == 0 ? Optional.empty()
                                    : Optional.of(names.get(0)));
                    // Node 1 boots with node 0 (it retries until node 0 serves); node 2 only once node 1 is
                    // in: two nodes joining at once can fail the feature-flag sync ("All replicas on
                    // diskfull nodes are not active yet") and crash one of them.
                    starts.add(i < 2 ? CompletableFuture.supplyAsync(() -> startMember(node), starter)
                            : starts.get(i - 1).handleAsync((previous, failed) -> startMember(node), starter));
                }
                RuntimeException failure = null;
                for (CompletableFuture<LocalRabbitMq> start : starts) {
                    try {
                        nodes.add(start.join());
                    } catch (CompletionException e) {
                        RuntimeException cause = e.getCause() instanceof RuntimeException r ? r : e;
                        if (failure == null) {
                            failure = cause;
                        } else {
                            failure.addSuppressed(cause);
                        }
                    }
                }
                if (failure != null) {
                    throw failure;
                }
                LocalRabbitMqCluster cluster = new LocalRabbitMqCluster(nodes, epmd);
                cluster.awaitFormed();
                LOG.info("RabbitMQ cluster of {} nodes ready in {} ms: {}", NODES,
                        (System.nanoTime() - started) / 1_000_000, cluster);
                return cluster;
            } catch (RuntimeException | Error e) {
                try {
                    closeAll(nodes, epmd);
                } catch (RuntimeException suppressed) {
                    e.addSuppressed(suppressed);
                }
                throw e;
            } finally {
                starter.shutdown();
            }
        }
    }
}
