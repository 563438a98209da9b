package io.settler.zerotrust.testkit;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/** Finds the server binaries and helper tools, and names the package to install when one is missing. */
final class Binaries {

    /** Overrides where the PostgreSQL server binaries (initdb, postgres, pg_ctl) are looked up. */
    static final String POSTGRES_BIN_DIR_PROPERTY = "settler.testkit.postgresBinDir";
    /** Overrides the path of the redis-server binary. */
    static final String REDIS_SERVER_PROPERTY = "settler.testkit.redisServer";

    /** Overrides where the RabbitMQ scripts (rabbitmq-server, rabbitmqctl) are looked up. */
    static final String RABBITMQ_BIN_DIR_PROPERTY = "settler.testkit.rabbitmqBinDir";

    /** Where the Debian package keeps the scripts themselves (/usr/sbin has wrappers that switch user and cd). */
    private static final Path DEBIAN_RABBITMQ_BIN = Path.of("/usr/lib/rabbitmq/bin");
    private static final Path DEBIAN_POSTGRES_ROOT = Path.of("/usr/lib/postgresql");
    private static final Pattern VERSION = Pattern.compile("(\\d+)(?:\\.(\\d+))?");

    private Binaries() {
    }

    /** The PostgreSQL programs one cluster needs, all from one installation. */
    record Postgres(Path initdb, Path postgres, Path pgCtl, Path psql) {
    }

    /** Finds initdb, postgres, pg_ctl (highest version under /usr/lib/postgresql, else PATH) and psql. */
    static Postgres postgres() {
        String override = System.getProperty(POSTGRES_BIN_DIR_PROPERTY);
        List<Path> serverDirs = new ArrayList<>();
        if (override != null && !override.isBlank()) {
            serverDirs.add(Path.of(override));
        } else {
            serverDirs.addAll(debianPostgresBinDirs(DEBIAN_POSTGRES_ROOT));
            serverDirs.addAll(pathDirs());
        }
        String where = override != null && !override.isBlank()
                ? override + " (from -D" + POSTGRES_BIN_DIR_PROPERTY + ")"
                : DEBIAN_POSTGRES_ROOT + "/*/bin and on PATH";
        // initdb, postgres and pg_ctl must come from one installation: take the first dir with all.
        for (Path dir : serverDirs) {
            if (executable(dir.resolve("initdb")) && executable(dir.resolve("postgres"))
                    && executable(dir.resolve("pg_ctl"))) {
                Path psql = executable(dir.resolve("psql")) ? dir.resolve("psql")
                        : find("psql", "postgresql-client", pathDirs(), "on PATH");
                return new Postgres(dir.resolve("initdb"), dir.resolve("postgres"), dir.resolve("pg_ctl"), psql);
            }
        }
        for (String name : List.of("initdb", "postgres", "pg_ctl")) {
            find(name, "postgresql", serverDirs, where);
        }
        throw missing("initdb, postgres and pg_ctl", "postgresql",
                "from one installation in " + where);
    }

    /**
     * The programs of a RabbitMQ node: the distribution's scripts, the Erlang port mapper they need
     * and the Erlang VM the server script ends up exec'ing into.
     *
     * @param server {@code rabbitmq-server}
     * @param ctl {@code rabbitmqctl}, from the same installation
     * @param epmd the Erlang port mapper daemon (its real path)
     * @param vm the Erlang VM ({@code beam.smp}, real path): what the server process runs once started
     */
    record RabbitMq(Path server, Path ctl, Path epmd, Path vm) {
    }

    /**
     * Finds rabbitmq-server and rabbitmqctl (in /usr/lib/rabbitmq/bin, else on PATH), epmd and the
     * Erlang VM of the Erlang installation that {@code erl} on PATH belongs to.
     */
    static RabbitMq rabbitMq() {
        String override = System.getProperty(RABBITMQ_BIN_DIR_PROPERTY);
        List<Path> dirs = new ArrayList<>();
        String where;
        if (override != null && !override.isBlank()) {
            dirs.add(Path.of(override));
            where = "in " + override + " (from -D" + RABBITMQ_BIN_DIR_PROPERTY + ")";
        } else {
            dirs.add(DEBIAN_RABBITMQ_BIN);
            dirs.addAll(pathDirs());
            where = "in " + DEBIAN_RABBITMQ_BIN + " or on PATH";
        }
        Path server = find("rabbitmq-server", "rabbitmq-server", dirs, where);
        Path ctl = server.resolveSibling("rabbitmqctl");
        if (!executable(ctl)) {
            throw missing("rabbitmqctl", "rabbitmq-server", "next to " + server);
        }
        List<Path> erlangDirs = new ArrayList<>(pathDirs());
        erlangDirs.add(Path.of("/usr/bin"));
        Path erl = find("erl", "erlang-base", erlangDirs, "on PATH");
        try {
            // <root>/bin/erl, its VM in <root>/erts-<version>/bin/ (Debian links /usr/bin/erl there).
            Path erlBin = erl.toRealPath().getParent();
            Path erlangRoot = erlBin == null ? null : erlBin.getParent();
            if (erlangRoot != null) {
                try (DirectoryStream<Path> erts = Files.newDirectoryStream(erlangRoot, "erts-*")) {
                    for (Path each : erts) {
                        Path vm = each.resolve("bin").resolve("beam.smp");
                        Path epmd = each.resolve("bin").resolve("epmd");
                        if (executable(vm) && executable(epmd)) {
                            return new RabbitMq(server, ctl, epmd.toRealPath(), vm.toRealPath());
                        }
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot look for the Erlang VM of " + erl, e);
        }
        throw missing("beam.smp and epmd", "erlang-base", "in the Erlang installation of " + erl);
    }

    /** Finds redis-server (built with TLS) on PATH or where the system property says. */
    static Path redisServer() {
        String override = System.getProperty(REDIS_SERVER_PROPERTY);
        if (override != null && !override.isBlank()) {
            Path path = Path.of(override);
            if (!executable(path)) {
                throw missing("redis-server", "redis-server",
                        "at " + override + " (from -D" + REDIS_SERVER_PROPERTY + ")");
            }
            return path;
        }
        List<Path> dirs = new ArrayList<>(pathDirs());
        dirs.add(Path.of("/usr/bin"));
        dirs.add(Path.of("/usr/local/bin"));
        return find("redis-server", "redis-server", dirs, "on PATH");
    }

    /** Finds setpriv, which runs the server programs as an unprivileged user when we are root. */
    static Path setpriv() {
        List<Path> dirs = new ArrayList<>(pathDirs());
        dirs.add(Path.of("/usr/bin"));
        dirs.add(Path.of("/bin"));
        return find("setpriv", "util-linux", dirs, "on PATH");
    }

    /**
     * The first executable {@code name} in {@code dirs}.
     *
     * @throws TestkitException with {@link TestkitException.Reason#MISSING_BINARY} naming the
     *     binary and the Debian package that provides it
     */
    static Path find(String name, String debianPackage, List<Path> dirs, String where) {
        for (Path dir : dirs) {
            Path candidate = dir.resolve(name);
            if (executable(candidate)) {
                return candidate;
            }
        }
        throw missing(name, debianPackage, where);
    }

    /** {@code <root>/<version>/bin} directories, highest version first. */
    static List<Path> debianPostgresBinDirs(Path root) {
        if (!Files.isDirectory(root)) {
            return List.of();
        }
        List<Path> dirs = new ArrayList<>();
        try (DirectoryStream<Path> versions = Files.newDirectoryStream(root)) {
            for (Path version : versions) {
                if (VERSION.matcher(version.getFileName().toString()).matches()
                        && Files.isDirectory(version.resolve("bin"))) {
                    dirs.add(version.resolve("bin"));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + root, e);
        }
        dirs.sort(Comparator.comparing((Path dir) -> versionKey(dir.getParent())).reversed());
        return dirs;
    }

    private static long versionKey(@Nullable Path versionDir) {
        Path name = versionDir == null ? null : versionDir.getFileName();
        Matcher matcher = VERSION.matcher(name == null ? "" : name.toString());
        if (!matcher.matches()) {
            return -1;
        }
        long major = Long.parseLong(matcher.group(1));
        long minor = matcher.group(2) == null ? 0 : Long.parseLong(matcher.group(2));
        return major * 1_000_000 + minor;
    }

    private static List<Path> pathDirs() {
        String path = Optional.ofNullable(System.getenv("PATH")).orElse("");
        List<Path> dirs = new ArrayList<>();
        for (String entry : path.split(File.pathSeparator)) {
            if (!entry.isBlank()) {
                dirs.add(Path.of(entry));
            }
        }
        return dirs;
    }

    private static boolean executable(Path path) {
        return Files.isRegularFile(path) && Files.isExecutable(path);
    }

    private static TestkitException missing(String name, String debianPackage, String where) {
        return new TestkitException(TestkitException.Reason.MISSING_BINARY,
                "'" + name + "' was not found " + where + ". Install the Debian/Ubuntu package '"
                        + debianPackage + "' (sudo apt-get install " + debianPackage
                        + "), or run bin/setup in the project root.");
    }
}
