package io.settler.zerotrust.testkit;

import java.io.IOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.nio.file.attribute.UserPrincipalNotFoundException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The OS user a server runs as. When this JVM is root, the server programs are run as an
 * unprivileged user through {@code setpriv} (which execs, so the started {@link Process} is the
 * server itself) and its files are handed to that user: PostgreSQL refuses to run as root, and a
 * RabbitMQ node (an Erlang VM whose cookie holder may run any code in it) has no business being root.
 */
final class ServerUser {

    /** The unprivileged user the Debian {@code postgresql} package creates. */
    static final String POSTGRES_OS_USER = "postgres";
    /** The unprivileged user the Debian {@code rabbitmq-server} package creates. */
    static final String RABBITMQ_OS_USER = "rabbitmq";

    private final String name;
    private final Optional<Path> setpriv;

    private ServerUser(String name, Optional<Path> setpriv) {
        this.name = name;
        this.setpriv = setpriv;
    }

    /** This JVM's own user when it is not root; otherwise {@code postgres}, switched to with setpriv. */
    static ServerUser forPostgres() {
        return unprivileged(POSTGRES_OS_USER, "PostgreSQL refuses to run as root", "postgresql");
    }

    /** This JVM's own user when it is not root; otherwise {@code rabbitmq}, switched to with setpriv. */
    static ServerUser forRabbitMq() {
        return unprivileged(RABBITMQ_OS_USER, "The testkit does not run a RabbitMQ node as root", "rabbitmq-server");
    }

    /**
     * This JVM's own user when it is not root; otherwise {@code osUser}, which must exist.
     *
     * @param why the first sentence of the message when it does not exist
     * @param debianPackage the package that creates it
     */
    private static ServerUser unprivileged(String osUser, String why, String debianPackage) {
        if (!runningAsRoot()) {
            return new ServerUser(System.getProperty("user.name"), Optional.empty());
        }
        Path setpriv = Binaries.setpriv();
        UserPrincipalLookupService lookup = FileSystems.getDefault().getUserPrincipalLookupService();
        try {
            lookup.lookupPrincipalByName(osUser);
            lookup.lookupPrincipalByGroupName(osUser);
        } catch (UserPrincipalNotFoundException e) {
            throw new TestkitException(TestkitException.Reason.UNSUPPORTED_ENVIRONMENT,
                    why + " and there is no OS user and group '" + osUser
                            + "' to run it as. Install the Debian package '" + debianPackage
                            + "' (it creates the user) or run the tests as a non-root user.", e);
        } catch (IOException e) {
            throw new TestkitException(TestkitException.Reason.UNSUPPORTED_ENVIRONMENT,
                    "cannot look up the OS user '" + osUser + "'", e);
        }
        return new ServerUser(osUser, Optional.of(setpriv));
    }

    /** Whether this JVM runs with user id 0. */
    static boolean runningAsRoot() {
        try {
            // /proc/self belongs to the effective user of this process.
            Object uid = Files.getAttribute(Path.of("/proc/self"), "unix:uid");
            if (uid instanceof Integer id) {
                return id == 0;
            }
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            // No /proc or no unix attribute view: fall back to the user name.
        }
        return "root".equals(System.getProperty("user.name"));
    }

    /** The OS user name (for PostgreSQL also the name initdb gives the bootstrap superuser). */
    String name() {
        return name;
    }

    /** {@code command}, prefixed with setpriv when it has to run as another user. */
    List<String> command(List<String> command) {
        if (setpriv.isEmpty()) {
            return command;
        }
        List<String> wrapped = new ArrayList<>(List.of(setpriv.get().toString(),
                "--reuid=" + name, "--regid=" + name, "--init-groups", "--"));
        wrapped.addAll(command);
        return wrapped;
    }

    /**
     * Lets this user pass through {@code directory} (group {@code --x}, mode 0710) without being able
     * to list it or change what is in it, when it is not this JVM's own user. The directory keeps
     * its owner, so the files this JVM writes there (pid records, logs) stay out of the server's
     * reach.
     */
    void allowTraversal(Path directory) {
        if (setpriv.isEmpty()) {
            return;
        }
        try {
            GroupPrincipal group = directory.getFileSystem().getUserPrincipalLookupService()
                    .lookupPrincipalByGroupName(name);
            Files.getFileAttributeView(directory, PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS)
                    .setGroup(group);
            Files.setPosixFilePermissions(directory, PosixFilePermissions.fromString("rwx--x---"));
        } catch (IOException e) {
            throw new TestkitException(TestkitException.Reason.IO_FAILED,
                    "cannot let the OS user '" + name + "' traverse " + directory, e);
        }
    }

    /** Gives {@code path} (and everything below it) to this user, when it is not this JVM's own. */
    void own(Path path) {
        if (setpriv.isEmpty()) {
            return;
        }
        UserPrincipalLookupService lookup = path.getFileSystem().getUserPrincipalLookupService();
        try {
            UserPrincipal user = lookup.lookupPrincipalByName(name);
            GroupPrincipal group = lookup.lookupPrincipalByGroupName(name);
            try (Stream<Path> tree = Files.walk(path)) {
                for (Path each : (Iterable<Path>) tree::iterator) {
                    PosixFileAttributeView view = Files.getFileAttributeView(
                            each, PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS);
                    view.setOwner(user);
                    view.setGroup(group);
                }
            }
        } catch (IOException e) {
            throw new TestkitException(TestkitException.Reason.IO_FAILED,
                    "cannot give " + path + " to the OS user '" + name + "'", e);
        }
    }
}
