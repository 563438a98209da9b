package io.settler.zerotrust.testkit;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The private temporary directory of one server: {@code /tmp/settler-testkit-<kind>-<random>},
 * mode 0700 (0710 when a server running as another OS user must pass through). It records the JVM
 * that owns it and the server process, so that a later run can find and clean up what a killed JVM
 * left behind ({@link #sweepStale(Path)}).
 */
final class ServerDirectory {

    static final String PREFIX = "settler-testkit-";
    /** Under /tmp, not java.io.tmpdir or a home directory, which the server user may not traverse. */
    static final Path DEFAULT_PARENT = Path.of("/tmp");

    static final String OWNER_FILE = "owner.pid";

    private static final Logger LOG = LoggerFactory.getLogger(ServerDirectory.class);
    private static final String SERVER_FILE = "server.pid";
    /** A directory without an owner file younger than this may still be being set up. */
    private static final Duration SETUP_GRACE = Duration.ofMinutes(2);
    private static final Duration STOP_GRACE = Duration.ofSeconds(5);

    private final Path path;

    private ServerDirectory(Path path) {
        this.path = path;
    }

    /** Sweeps stale directories, then creates a fresh one owned by this JVM. */
    static ServerDirectory create(String kind) {
        sweepStale(DEFAULT_PARENT);
        try {
            Path path = Files.createTempDirectory(DEFAULT_PARENT, PREFIX + kind + "-",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            Files.writeString(path.resolve(OWNER_FILE), describe(ProcessHandle.current()) + "\n");
            return new ServerDirectory(path);
        } catch (IOException e) {
            throw new TestkitException(TestkitException.Reason.IO_FAILED,
                    "cannot create a server directory under " + DEFAULT_PARENT, e);
        }
    }

    Path path() {
        return path;
    }

    Path resolve(String name) {
        return path.resolve(name);
    }

    /** Creates a sub-directory readable by its owner only. */
    Path createPrivateDirectory(String name) {
        try {
            return Files.createDirectory(path.resolve(name),
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        } catch (IOException e) {
            throw new TestkitException(TestkitException.Reason.IO_FAILED, "cannot create " + path.resolve(name), e);
        }
    }

    /**
     * Remembers the server process and the program it runs, so a sweep can stop it if this JVM
     * dies without closing it.
     */
    void recordServer(ProcessHandle server, Path executable) {
        try {
            Files.writeString(path.resolve(SERVER_FILE),
                    describe(server) + " " + executable.toRealPath() + "\n");
        } catch (IOException e) {
            throw new TestkitException(TestkitException.Reason.IO_FAILED,
                    "cannot write " + path.resolve(SERVER_FILE), e);
        }
    }

    /**
     * Writes {@code content} to {@code file}, creating it readable by its owner only (mode 0600);
     * an existing file is truncated and keeps its owner and mode (a configuration rewritten for each
     * port tried).
     */
    static void writePrivate(Path file, String content) throws IOException {
        if (!Files.exists(file)) {
            Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        }
        Files.writeString(file, content);
    }

    /** A random secret for a server's private files (an administrator's password, an Erlang cookie): 48 hex digits. */
    static String randomSecret() {
        byte[] bytes = new byte[24];
        new SecureRandom().nextBytes(bytes);
        return HexFormat.of().formatHex(bytes);
    }

    /** Deletes the directory and everything in it; a no-op when it is already gone. */
    void delete() {
        deleteTree(path);
    }

    /** The last {@code lines} lines of a log file, or a note that there is none. */
    static String tail(Path log, int lines) {
        try (RandomAccessFile file = new RandomAccessFile(log.toFile(), "r")) {
            long length = file.length();
            int size = (int) Math.min(length, 16 * 1024);
            byte[] bytes = new byte[size];
            file.seek(length - size);
            file.readFully(bytes);
            List<String> all = Arrays.asList(new String(bytes, StandardCharsets.UTF_8).split("\\R"));
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException e) {
            return "(no log at " + log + ": " + e.getMessage() + ")";
        }
    }

    /**
     * Removes every {@code settler-testkit-*} directory under {@code parent} that belongs to this
     * OS user and whose owning JVM is gone, first stopping the server it recorded (only if that pid
     * still runs the recorded program since the recorded time). Directories of other users are
     * never trusted: anyone can create files in /tmp. Best effort: what cannot be cleaned is logged
     * and left alone.
     */
    static void sweepStale(Path parent) {
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(parent, PREFIX + "*")) {
            for (Path dir : dirs) {
                if (Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS) && ownedByUs(dir) && isStale(dir)) {
                    LOG.info("Cleaning up {}, left behind by a JVM that is gone", dir);
                    readRecord(dir.resolve(SERVER_FILE)).ifPresent(ServerDirectory::stopLeftover);
                    deleteTree(dir);
                }
            }
        } catch (IOException | RuntimeException e) {
            LOG.warn("Could not sweep stale test server directories under {}: {}", parent, e.toString());
        }
    }

    private static boolean ownedByUs(Path dir) {
        try {
            Object ours = Files.getAttribute(Path.of("/proc/self"), "unix:uid");
            return ours.equals(Files.getAttribute(dir, "unix:uid", LinkOption.NOFOLLOW_LINKS));
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return false;
        }
    }

    private static boolean isStale(Path dir) throws IOException {
        Path owner = dir.resolve(OWNER_FILE);
        Optional<Record> record = Files.exists(owner) ? readRecord(owner) : Optional.empty();
        if (record.isEmpty()) {
            // Missing or half-written: the owner may still be setting the directory up.
            Path newest = Files.exists(owner) ? owner : dir;
            return Files.getLastModifiedTime(newest).toInstant().plus(SETUP_GRACE).isBefore(Instant.now());
        }
        return !isRunning(record.get());
    }

    private static void stopLeftover(Record server) {
        Optional<ProcessHandle> handle = ProcessHandle.of(server.pid()).filter(p -> isRunning(server));
        if (handle.isEmpty()) {
            return;
        }
        String command = handle.get().info().command().orElse("");
        if (server.executable().isEmpty() || !command.equals(server.executable())) {
            return; // the pid now belongs to something else
        }
        LOG.info("Stopping leftover {} (pid {})", command, server.pid());
        stopProcessTree(handle.get(), STOP_GRACE);
    }

    /** Politely (SIGTERM), then forcibly, stops a process and whatever it started. */
    static void stopProcessTree(ProcessHandle process, Duration grace) {
        List<ProcessHandle> children = process.descendants().toList();
        process.destroy();
        try {
            process.onExit().get(grace.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            // Still running after the grace period: kill it below.
        }
        children.forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
        process.descendants().forEach(ProcessHandle::destroyForcibly);
    }

    /**
     * A process as recorded: its pid, its start time (to tell a reused pid from the original) and,
     * for servers, the real path of its program.
     */
    @SuppressWarnings("JavaLangClash") // private to this class, whose code never means java.lang.Record
    private record Record(long pid, long startMillis, String executable) {
    }

    private static String describe(ProcessHandle process) {
        return process.pid() + " " + process.info().startInstant().map(Instant::toEpochMilli).orElse(-1L);
    }

    private static Optional<Record> readRecord(Path file) {
        try {
            String[] parts = Files.readString(file).trim().split("\\s+");
            return Optional.of(new Record(Long.parseLong(parts[0]), parts.length > 1 ? Long.parseLong(parts[1]) : -1,
                    parts.length > 2 ? parts[2] : ""));
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    private static boolean isRunning(Record record) {
        return ProcessHandle.of(record.pid())
                .filter(ProcessHandle::isAlive)
                .filter(p -> record.startMillis() < 0 || p.info().startInstant()
                        .map(start -> start.toEpochMilli() == record.startMillis()).orElse(true))
                .isPresent();
    }

    private static void deleteTree(Path root) {
        if (!Files.exists(root)) {
            return;
        }
        try {
            Files.walkFileTree(root, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                    Files.deleteIfExists(file);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
                    if (e instanceof NoSuchFileException) {
                        return FileVisitResult.CONTINUE;
                    }
                    throw e;
                }

                @Override
                public FileVisitResult postVisitDirectory(Path dir, IOException e) throws IOException {
                    if (e != null && !(e instanceof NoSuchFileException)) {
                        throw e;
                    }
                    Files.deleteIfExists(dir);
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            throw new TestkitException(TestkitException.Reason.IO_FAILED, "cannot delete " + root, e);
        }
    }
}
