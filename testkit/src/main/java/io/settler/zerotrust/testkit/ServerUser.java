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
 * The OS user a server runs as. PostgreSQL refuses to run as root, so when this JVM is root the
 * server programs are run as an unprivileged user through {@code setpriv} (which execs, so the
 * started {@link Process} is the server itself) and its files are handed to that user.
 */
final class ServerUser {

    /** The unprivileged user the Debian {@code postgresql} package creates. */
    static final String POSTGRES_OS_USER = "postgres";

    private final String name;
    private final Optional<Path> setpriv;

    private ServerUser(String name, Optional<Path> setpriv) {
        this.name = name;
        this.setpriv = setpriv;
    }

    /** This JVM's own user when it is not root; otherwise {@code postgres}, switched to with setpriv. */
    static ServerUser forPostgres() {
        if (!runningAsRoot()) {
            return new ServerUser(System.getProperty("user.name"), Optional.empty());
        }
        Path setpriv = Binaries.setpriv();
        UserPrincipalLookupService lookup = FileSystems.getDefault().getUserPrincipalLookupService();
        try {
            lookup.lookupPrincipalByName(POSTGRES_OS_USER);
            lookup.lookupPrincipalByGroupName(POSTGRES_OS_USER);
        } catch (UserPrincipalNotFoundException e) {
            throw new TestkitException(TestkitException.Reason.UNSUPPORTED_ENVIRONMENT,
                    "PostgreSQL refuses to run as root and there is no OS user and group '" + POSTGRES_OS_USER
                            + "' to run it as. Install the Debian package 'postgresql' (it creates the user) "
                            + "or run the tests as a non-root user.", e);
        } catch (IOException e) {
            throw new TestkitException(TestkitException.Reason.UNSUPPORTED_ENVIRONMENT,
                    "cannot look up the OS user '" + POSTGRES_OS_USER + "'", e);
        }
        return new ServerUser(POSTGRES_OS_USER, Optional.of(setpriv));
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

    /** The OS user name, which is also the name initdb gives the bootstrap superuser. */
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
