package io.settler.zerotrust.cli;

import java.io.PrintWriter;
import java.util.Objects;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Model.CommandSpec;

/** What every command needs from picocli. */
final class Commands {

    private Commands() {
    }

    /** The command's standard output (picocli's, so tests and redirection see it). */
    static PrintWriter out(@Nullable CommandSpec spec) {
        return Objects.requireNonNull(spec, "picocli injects the spec").commandLine().getOut();
    }

    /** A parameter picocli checked as required: set whenever the command runs. */
    static <T> T required(@Nullable T value, String name) {
        if (value == null) {
            throw new UsageException("missing " + name);
        }
        return value;
    }
}
