package io.settler.zerotrust.cli;

import java.io.PrintWriter;
import java.util.Arrays;
import picocli.AutoComplete;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/**
 * {@code zt}: the library's answers from a shell. Every command prints what it found on standard
 * output and exits 0 (ok), 1 (a finding: a refused certificate or token, an invalid policy, a call
 * the policy refuses, drift, a failure the message explains), 2 (a usage error) or 3 (a server
 * could not be checked: not reached, or it refused the TLS handshake, the login or a read). Errors
 * are one line on standard error; {@code --verbose} adds the stack trace and the library's log.
 */
@Command(name = "zt", mixinStandardHelpOptions = true, versionProvider = Zt.Version.class,
        description = "Settler Zero Trust for operators: certificates, policies, tokens, a development CA"
                + " and server configuration, answered by the library itself.",
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:ok (for drift: in sync)", "1:a finding (a refused certificate or token, an invalid"
                + " policy, a refused call, drift) or a failure the message explains",
            "2:usage error (the message says what to fix)",
            "3:could not check: a server (or JWKS endpoint) was not reached, or refused the TLS handshake, the"
                    + " login or a read (the message says what to fix)"},
        subcommands = {CertCommand.class, PolicyCommand.class, TokenCommand.class, CaCommand.class,
                RenderCommand.class, DriftCommand.class, AutoComplete.GenerateCompletion.class})
public final class Zt {

    /** Exit code: ok. */
    public static final int OK = 0;
    /** Exit code: a finding (a refusal, an invalid input, a failure the message explains). */
    public static final int FINDING = 1;
    /** Exit code: the command line was wrong. */
    public static final int USAGE = 2;
    /** Exit code: a server could not be checked (not reached, or it refused the handshake, the login or a read). */
    public static final int COULD_NOT_CHECK = 3;

    @Option(names = "--verbose", scope = ScopeType.INHERIT,
            description = "On an error, print the stack trace; show the library's log on standard error.")
    boolean verbose;

    private Zt() {
    }

    /**
     * Runs {@code zt} and exits with its exit code.
     *
     * @param args the command line
     */
    public static void main(String[] args) {
        // The process's own logging (slf4j-simple): quiet unless --verbose, and never on standard output.
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel",
                Arrays.asList(args).contains("--verbose") ? "info" : "off");
        System.setProperty("org.slf4j.simpleLogger.logFile", "System.err");
        System.exit(run(args));
    }

    /**
     * Runs {@code zt} without exiting, printing to standard output and error.
     *
     * @param args the command line
     * @return the exit code
     */
    public static int run(String... args) {
        return execute(commandLine(), args);
    }

    /** Runs {@code zt} without exiting, printing results to {@code out} and errors to {@code err}. */
    static int run(PrintWriter out, PrintWriter err, String... args) {
        return execute(commandLine().setOut(out).setErr(err), args);
    }

    private static CommandLine commandLine() {
        return new CommandLine(new Zt()).setCaseInsensitiveEnumValuesAllowed(true);
    }

    private static int execute(CommandLine commandLine, String... args) {
        boolean verbose = Arrays.asList(args).contains("--verbose");
        commandLine.setExecutionExceptionHandler((e, line, parsed) -> {
            PrintWriter errors = line.getErr();
            boolean usage = e instanceof UsageException;
            boolean unchecked = e instanceof CouldNotCheckException;
            String message = e.getMessage() == null ? e.toString() : e.getMessage();
            errors.println("zt: " + (usage ? "" : unchecked ? "could not check: " : "error: ") + message
                    + (verbose || usage ? "" : " (--verbose shows the stack trace)"));
            if (verbose) {
                e.printStackTrace(errors);
            }
            errors.flush();
            return usage ? USAGE : unchecked ? COULD_NOT_CHECK : FINDING;
        });
        commandLine.setParameterExceptionHandler((e, arguments) -> {
            PrintWriter errors = e.getCommandLine().getErr();
            errors.println("zt: " + e.getMessage() + " (see '" + e.getCommandLine().getCommandSpec().qualifiedName()
                    + " --help')");
            errors.flush();
            return USAGE;
        });
        return commandLine.execute(args);
    }

    /** The version of the jar, from its manifest. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String version = Zt.class.getPackage().getImplementationVersion();
            return new String[] {"zt " + (version == null ? "(development build)" : version)};
        }
    }
}
