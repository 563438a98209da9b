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
 * the policy refuses, a failure the message explains) or 2 (a usage error). Errors are one line
 * on standard error; {@code --verbose} adds the stack trace and the library's log.
 */
@Command(name = "zt", mixinStandardHelpOptions = true, versionProvider = Zt.Version.class,
        description = "Settler Zero Trust for operators: certificates, policies, tokens, a development CA"
                + " and server configuration, answered by the library itself.",
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:ok", "1:a finding (a refused certificate or token, an invalid policy, a refused call)"
                + " or a failure the message explains", "2:usage error (the message says what to fix)"},
        subcommands = {CertCommand.class, PolicyCommand.class, TokenCommand.class, CaCommand.class,
                RenderCommand.class, AutoComplete.GenerateCompletion.class})
public final class Zt {

    /** Exit code: ok. */
    public static final int OK = 0;
    /** Exit code: a finding (a refusal, an invalid input, a failure the message explains). */
    public static final int FINDING = 1;
    /** Exit code: the command line was wrong. */
    public static final int USAGE = 2;

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
        System.exit(run(args));
    }

    /**
     * Runs {@code zt} without exiting.
     *
     * @param args the command line
     * @return the exit code
     */
    public static int run(String... args) {
        boolean verbose = Arrays.asList(args).contains("--verbose");
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", verbose ? "info" : "off");
        System.setProperty("org.slf4j.simpleLogger.logFile", "System.err");
        CommandLine commandLine = new CommandLine(new Zt()).setCaseInsensitiveEnumValuesAllowed(true);
        commandLine.setExecutionExceptionHandler((e, line, parsed) -> {
            PrintWriter err = line.getErr();
            boolean usage = e instanceof UsageException;
            String message = e.getMessage() == null ? e.toString() : e.getMessage();
            err.println("zt: " + (usage ? "" : "error: ") + message
                    + (verbose ? "" : usage ? "" : " (--verbose shows the stack trace)"));
            if (verbose) {
                e.printStackTrace(err);
            }
            err.flush();
            return usage ? USAGE : FINDING;
        });
        commandLine.setParameterExceptionHandler((e, arguments) -> {
            PrintWriter err = e.getCommandLine().getErr();
            err.println("zt: " + e.getMessage() + " (see '" + e.getCommandLine().getCommandSpec().qualifiedName()
                    + " --help')");
            err.flush();
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
