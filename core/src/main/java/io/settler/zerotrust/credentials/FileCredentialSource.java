package io.settler.zerotrust.credentials;

import io.settler.zerotrust.audit.AuditLog;
import io.settler.zerotrust.audit.CoreAudit;
import io.settler.zerotrust.identity.ServiceIdentity;
import io.settler.zerotrust.time.Durations;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.FileSystems;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Credentials from PEM files that rotate without a restart.
 *
 * <pre>{@code
 * try (FileCredentialSource credentials = FileCredentialSource.builder(
 *         Path.of("/var/run/secrets/tls/tls.crt"), Path.of("/var/run/secrets/tls/tls.key"),
 *         Path.of("/var/run/secrets/tls/ca.crt")).start()) {
 *     MtlsContext server = MtlsContext.server(credentials, authorizer).build();
 *     ...
 * }
 * }</pre>
 *
 * <p>It watches the directories that hold the files, not the files, so it sees Kubernetes secret
 * updates (which swap a {@code ..data} symlink atomically) and editors that replace files. After a
 * change it waits for a quiet period, so a key and certificate written one after the other are
 * read together, then loads and validates the whole set. A valid set becomes the new immutable
 * {@link CredentialSnapshot} in one atomic step and listeners are told. A set is valid when the
 * leaf matches its key, is valid now and chains to the trust bundle read with it (checked at
 * {@link Builder#start()} too), and, for a rotation, carries the same SPIFFE ID as the current leaf:
 * a rotation renews an identity. Anything else (a key not written yet, a pair from another CA, a
 * certificate for another service, a trust bundle that dropped the leaf's CA, a broken file) is
 * refused with a WARNING {@code credentials.rotation_refused} audit event, listeners are not told,
 * the last good snapshot stays in use and the files stay watched, so the next change is tried
 * again. A periodic check catches changes on file systems that do not deliver watch events.
 *
 * <p>Thread-safe. {@link #close()} stops the watcher thread.
 */
public final class FileCredentialSource implements CredentialSource, AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(FileCredentialSource.class);

    private final Path chainFile;
    private final Path keyFile;
    private final Path trustFile;
    private final TlsIdentity.Loader identityLoader;
    private final TrustBundle.Loader trustLoader;
    private final Duration quietPeriod;
    private final Duration recheckInterval;
    private final Clock clock;
    private final AuditLog audit;
    private final List<Consumer<CredentialSnapshot>> listeners = new CopyOnWriteArrayList<>();
    private final WatchService watcher;
    private final Thread thread;
    private volatile CredentialSnapshot current;

    private FileCredentialSource(Builder builder) {
        this.chainFile = builder.chainFile;
        this.keyFile = builder.keyFile;
        this.trustFile = builder.trustFile;
        this.identityLoader = builder.identityLoader.clock(builder.clock);
        this.trustLoader = TrustBundle.loader().clock(builder.clock);
        this.quietPeriod = builder.quietPeriod;
        this.recheckInterval = builder.recheckInterval;
        this.clock = builder.clock;
        this.audit = builder.audit;
        this.current = load(1); // the first set must be valid: there is nothing to fall back to
        try {
            this.watcher = FileSystems.getDefault().newWatchService();
            Set<Path> directories = new LinkedHashSet<>();
            for (Path file : List.of(chainFile, keyFile, trustFile)) {
                directories.add(file.toAbsolutePath().getParent());
            }
            for (Path directory : directories) {
                directory.register(watcher, StandardWatchEventKinds.ENTRY_CREATE, StandardWatchEventKinds.ENTRY_MODIFY,
                        StandardWatchEventKinds.ENTRY_DELETE);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot watch the directories of " + chainFile + ", " + keyFile
                    + " and " + trustFile, e);
        }
        this.thread = new Thread(this::watch, "settler-credential-watcher");
        thread.setDaemon(true);
        thread.start();
    }

    /**
     * Starts a source for a PEM chain, its key and a PEM trust bundle.
     *
     * @param chainFile leaf first, then intermediates
     * @param keyFile the leaf's private key
     * @param trustFile the CA certificates to trust
     * @return a builder
     */
    public static Builder builder(Path chainFile, Path keyFile, Path trustFile) {
        return new Builder(chainFile, keyFile, trustFile);
    }

    @Override
    public CredentialSnapshot current() {
        return current;
    }

    @Override
    public AutoCloseable onRotation(Consumer<CredentialSnapshot> listener) {
        Objects.requireNonNull(listener, "listener");
        listeners.add(listener);
        return () -> listeners.remove(listener);
    }

    /**
     * Loads and validates the files now, and publishes them if they differ from the current set.
     * The watcher calls this after each quiet period; call it yourself to rotate on a signal.
     *
     * @return true if a new snapshot was published; false if nothing changed or the new set was
     *     refused (audited as {@code credentials.rotation_refused}; the current snapshot stays)
     * @see #reloadOrThrow()
     */
    public synchronized boolean reload() {
        try {
            return reloadOrThrow();
        } catch (CredentialException refused) {
            return false; // audited; the last good set stays
        }
    }

    /**
     * As {@link #reload()}, but a refused set throws, so a caller rotating on a signal learns why.
     * A set is a rotation of the current one only if its leaf chains to its trust bundle, is valid
     * now and matches its key, and carries the same SPIFFE ID as the current leaf (or, like it,
     * none); a new trust bundle must still anchor the leaf.
     *
     * @return true if a new snapshot was published; false if nothing changed
     * @throws CredentialException if the new set is refused ({@link CredentialException#reason()}, e.g.
     *     {@code KEY_MISMATCH} for a half-written pair, {@code UNTRUSTED_CHAIN} for another CA's
     *     pair, {@code IDENTITY_CHANGED}); it is audited and the current snapshot stays
     */
    public synchronized boolean reloadOrThrow() {
        CredentialSnapshot before = current;
        CredentialSnapshot next;
        try {
            next = load(before.generation() + 1);
            if (unchanged(before, next)) {
                return false;
            }
            requireSameIdentity(before, next);
        } catch (CredentialException e) {
            refused(before, e);
            throw e;
        } catch (UncheckedIOException e) {
            CredentialException unreadable = new CredentialException(CredentialException.Reason.FILE_UNREADABLE,
                    "cannot read " + chainFile + ", " + keyFile + " or " + trustFile + " (" + e.getMessage()
                            + "): check that the files exist and this process may read them", e);
            refused(before, unreadable);
            throw unreadable;
        }
        current = next;
        audit.event(CoreAudit.CREDENTIALS_ROTATED)
                .field("generation", next.generation())
                .field("identity", next.identity().identity().map(Object::toString).orElse("none"))
                .field("fingerprint", next.identity().fingerprint())
                .field("previous_fingerprint", before.identity().fingerprint())
                .field("not_after", next.identity().notAfter())
                .field("trust_anchors", String.join(",", next.trust().fingerprints()))
                .record();
        for (Consumer<CredentialSnapshot> listener : listeners) {
            try {
                listener.accept(next);
            } catch (RuntimeException e) {
                LOG.warn("event=rotation_listener_failed listener={} error={}", listener, e.toString());
            }
        }
        return true;
    }

    /** Stops watching; the current snapshot stays readable. */
    @Override
    public void close() {
        thread.interrupt();
        try {
            watcher.close();
        } catch (IOException e) {
            LOG.debug("event=watch_service_close_failed error={}", e.toString());
        }
    }

    /** Loads and checks the files: each on its own, then the leaf against the trust bundle. */
    private CredentialSnapshot load(long generation) {
        TlsIdentity identity = identityLoader.fromPem(chainFile, keyFile);
        TrustBundle trust = trustLoader.fromPem(trustFile);
        Instant now = clock.instant();
        ChainValidator.checkAnchored(identity.chain(), trust, now,
                new ChainValidator.Origin("the chain in " + chainFile, "the private key in " + keyFile),
                "the trust bundle in " + trustFile);
        return new CredentialSnapshot(generation, identity, trust, now);
    }

    private static boolean unchanged(CredentialSnapshot before, CredentialSnapshot next) {
        return next.identity().fingerprint().equals(before.identity().fingerprint())
                && next.identity().privateKey().equals(before.identity().privateKey())
                && next.trust().equals(before.trust());
    }

    /** A rotation renews the service's identity; a certificate for another one is not a rotation. */
    private void requireSameIdentity(CredentialSnapshot before, CredentialSnapshot next) {
        Optional<ServiceIdentity> was = before.identity().identity();
        Optional<ServiceIdentity> now = next.identity().identity();
        if (!was.equals(now)) {
            throw new CredentialException(CredentialException.Reason.IDENTITY_CHANGED, "the leaf certificate in "
                    + chainFile + " is for " + now.map(Object::toString).orElse("no SPIFFE ID") + " but this service"
                    + " is " + was.map(Object::toString).orElse("without a SPIFFE ID") + ": a rotation renews the"
                    + " same identity; write a certificate for that identity, or restart the service to change it");
        }
    }

    private void refused(CredentialSnapshot kept, CredentialException e) {
        audit.event(CoreAudit.CREDENTIALS_ROTATION_REFUSED)
                .field("chain_file", chainFile).field("key_file", keyFile).field("trust_file", trustFile)
                .field("reason", e.reason())
                .field("detail", e.getMessage())
                .field("kept_generation", kept.generation())
                .field("kept_fingerprint", kept.identity().fingerprint())
                .record();
    }

    private void watch() {
        long quietNanos = quietPeriod.toNanos();
        long dirtySince = 0;
        long lastCheck = System.nanoTime();
        boolean dirty = false;
        while (!Thread.currentThread().isInterrupted()) {
            try {
                WatchKey key = watcher.poll(dirty ? Math.max(1, quietNanos / 4) : recheckInterval.toNanos(),
                        TimeUnit.NANOSECONDS);
                long now = System.nanoTime();
                if (key != null) {
                    key.pollEvents(); // which file changed does not matter: the whole set is reloaded
                    key.reset();
                    dirty = true;
                    dirtySince = now; // the quiet period restarts with every change
                } else if (!dirty && now - lastCheck >= recheckInterval.toNanos()) {
                    dirty = true;
                    dirtySince = now - quietNanos;
                }
                if (dirty && now - dirtySince >= quietNanos) {
                    dirty = false;
                    lastCheck = now;
                    reload();
                }
            } catch (InterruptedException | ClosedWatchServiceException e) {
                return;
            } catch (RuntimeException e) {
                LOG.warn("event=credential_watch_failed error={}", e.toString());
            }
        }
    }

    @Override
    public String toString() {
        return "FileCredentialSource[" + chainFile + ", " + keyFile + ", " + trustFile + ", generation="
                + current.generation() + "]";
    }

    /** Builds a {@link FileCredentialSource}. */
    public static final class Builder {
        private static final Duration MAX_QUIET_PERIOD = Duration.ofHours(1);
        private static final Duration MAX_RECHECK_INTERVAL = Duration.ofDays(1);
        private final Path chainFile;
        private final Path keyFile;
        private final Path trustFile;
        private TlsIdentity.Loader identityLoader = TlsIdentity.loader();
        private Duration quietPeriod = Duration.ofMillis(500);
        private Duration recheckInterval = Duration.ofMinutes(1);
        private Clock clock = Clock.systemUTC();
        private AuditLog audit = AuditLog.slf4j();

        private Builder(Path chainFile, Path keyFile, Path trustFile) {
            this.chainFile = Objects.requireNonNull(chainFile, "chainFile");
            this.keyFile = Objects.requireNonNull(keyFile, "keyFile");
            this.trustFile = Objects.requireNonNull(trustFile, "trustFile");
        }

        /** The password of an encrypted key file. */
        public Builder password(char[] password) {
            this.identityLoader = identityLoader.password(password);
            return this;
        }

        /** How long the files must stay unchanged before they are read (default 500 ms; positive, at most 1 hour). */
        public Builder quietPeriod(Duration quietPeriod) {
            this.quietPeriod = Durations.requireBetween("quietPeriod", quietPeriod, MAX_QUIET_PERIOD);
            return this;
        }

        /**
         * How often to re-read the files even without a watch event (default 1 minute; positive, at
         * most 1 day).
         */
        public Builder recheckInterval(Duration recheckInterval) {
            this.recheckInterval = Durations.requireBetween("recheckInterval", recheckInterval, MAX_RECHECK_INTERVAL);
            return this;
        }

        /** The clock for validity checks and event times (default the system clock). */
        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /** Where rotation events go (default {@link AuditLog#slf4j()}). */
        public Builder auditLog(AuditLog audit) {
            this.audit = Objects.requireNonNull(audit, "audit");
            return this;
        }

        /**
         * Loads and validates the files and starts watching them.
         *
         * @throws CredentialException if the files do not hold a valid set now
         */
        public FileCredentialSource start() {
            return new FileCredentialSource(this);
        }
    }
}
