package io.settler.zerotrust.cli;

import io.settler.zerotrust.identity.InvalidServiceIdentityException;
import io.settler.zerotrust.pki.CertificateUsage;
import io.settler.zerotrust.pki.DevCertificateAuthority;
import io.settler.zerotrust.pki.IssuedCertificate;
import io.settler.zerotrust.pki.KeyAlgorithm;
import io.settler.zerotrust.pki.PemFiles;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code zt ca}: a development CA on disk. Never for production. */
@Command(name = "ca", mixinStandardHelpOptions = true,
        description = {"A DEVELOPMENT-ONLY certificate authority kept in a directory (DevCertificateAuthority):"
                + " for tests and local setups, never for production. Its key is a file (0600) on this disk."},
        subcommands = {CaCommand.Init.class, CaCommand.Issue.class})
final class CaCommand {

    static final String WARNING = "DEVELOPMENT ONLY: this CA's key is a plain file; never use it in production";

    /** {@code zt ca init}. */
    @Command(name = "init", mixinStandardHelpOptions = true,
            description = {"DEVELOPMENT ONLY. Creates a development CA in <dir>: ca.crt (the trust bundle peers hold),"
                    + " ca.key (0600), and with --intermediate intermediate.crt and intermediate.key (0600)."},
            exitCodeListHeading = "%nExit codes:%n",
            exitCodeList = {"0:created", "2:usage error (e.g. <dir> already holds a CA)"})
    static final class Init implements Callable<Integer> {

        @Spec
        @Nullable CommandSpec spec;

        @Parameters(index = "0", paramLabel = "<dir>", description = "Where the CA goes; created if missing.")
        @Nullable Path directory;

        @Option(names = "--trust-domain", required = true, paramLabel = "<domain>",
                description = "The SPIFFE trust domain of every identity it issues, e.g. example.org.")
        String trustDomain = "";

        @Mixin
        KeyAlgorithmOption key = new KeyAlgorithmOption();

        @Option(names = "--validity-days", paramLabel = "<days>", defaultValue = "30",
                description = "Lifetime of the CA certificates (default ${DEFAULT-VALUE}).")
        int validityDays = 30;

        @Option(names = "--intermediate", description = "Issue leaves from an intermediate CA under the root.")
        boolean intermediate;

        @Override
        public Integer call() {
            PrintWriter out = Commands.out(spec);
            Path dir = Commands.required(directory, "<dir>");
            if (Files.exists(dir.resolve("ca.crt")) || Files.exists(dir.resolve("ca.key"))) {
                throw new UsageException(dir + " already holds a CA (ca.crt, ca.key); name another directory,"
                        + " or delete it first");
            }
            if (Files.exists(dir) && !Files.isDirectory(dir)) {
                throw new UsageException(dir + " is a file; name a directory (it is created if missing)");
            }
            DevCertificateAuthority.Builder builder;
            try {
                builder = DevCertificateAuthority.builder(trustDomain).keyAlgorithm(key.keyAlgorithm)
                        .validity(Duration.ofDays(validityDays));
            } catch (IllegalArgumentException e) {
                throw new UsageException(e.getMessage() + " (--trust-domain, --validity-days)", e);
            }
            if (intermediate) {
                builder.withIntermediate();
            }
            DevCertificateAuthority ca = builder.build();
            Path root = ca.writeTo(dir);
            out.println(WARNING);
            out.println("created a development CA for " + ca.trustDomain() + " in " + dir.toAbsolutePath());
            out.println("trust bundle: " + root + " (valid until " + ca.rootCertificate().getNotAfter().toInstant()
                    + ")");
            out.println("issue with:   zt ca issue <service> --ca " + dir + " --out <dir>");
            return Zt.OK;
        }
    }

    /** {@code zt ca issue}. */
    @Command(name = "issue", mixinStandardHelpOptions = true,
            description = {"DEVELOPMENT ONLY. Issues a leaf certificate for spiffe://<trust-domain>/<service> from"
                    + " the CA in --ca: <out>/<name>.crt (chain), <name>.key (0600) and ca.crt, where <name> is"
                    + " the service with '/' as '-'."},
            exitCodeListHeading = "%nExit codes:%n",
            exitCodeList = {"0:issued", "2:usage error (no CA in --ca, a bad service name or option)"})
    static final class Issue implements Callable<Integer> {

        @Spec
        @Nullable CommandSpec spec;

        @Parameters(index = "0", paramLabel = "<service>", description = "The SPIFFE path, e.g. api or ns/prod/api.")
        String service = "";

        @Option(names = "--ca", required = true, paramLabel = "<dir>", description = "The directory of zt ca init.")
        @Nullable Path ca;

        @Option(names = "--out", required = true, paramLabel = "<dir>", description = "Where the files go.")
        @Nullable Path out;

        @Option(names = "--dns", paramLabel = "<name>", description = "A DNS name SAN (repeatable).")
        List<String> dnsNames = new ArrayList<>();

        @Option(names = "--ip", paramLabel = "<address>", description = "An IP address SAN (repeatable).")
        List<String> ipAddresses = new ArrayList<>();

        @Option(names = "--usage", paramLabel = "<usage>", defaultValue = "SERVER_AND_CLIENT",
                description = "One of ${COMPLETION-CANDIDATES} (default ${DEFAULT-VALUE}).")
        CertificateUsage usage = CertificateUsage.SERVER_AND_CLIENT;

        @Mixin
        KeyAlgorithmOption key = new KeyAlgorithmOption();

        @Option(names = "--validity-hours", paramLabel = "<hours>", defaultValue = "24",
                description = "Lifetime of the certificate (default ${DEFAULT-VALUE}).")
        int validityHours = 24;

        @Override
        public Integer call() {
            PrintWriter output = Commands.out(spec);
            Path caDir = Commands.required(ca, "--ca");
            Path outDir = Commands.required(out, "--out");
            if (!Files.isDirectory(caDir)) {
                throw new UsageException("--ca " + caDir + " is not a directory; name the directory of 'zt ca init'");
            }
            DevCertificateAuthority authority;
            try {
                authority = DevCertificateAuthority.load(caDir);
            } catch (IllegalArgumentException e) {
                throw new UsageException(e.getMessage(), e);
            }
            IssuedCertificate issued;
            try {
                issued = authority.leaf(service).usage(usage).keyAlgorithm(key.keyAlgorithm)
                        .dnsNames(dnsNames.toArray(String[]::new)).ipAddresses(ipAddresses.toArray(String[]::new))
                        .validity(Duration.ofHours(validityHours)).issue();
            } catch (InvalidServiceIdentityException e) {
                throw new UsageException("<service> " + service + ": " + e.getMessage(), e);
            } catch (IllegalArgumentException e) {
                throw new UsageException(e.getMessage() + " (--dns, --ip, --validity-hours)", e);
            }
            PemFiles files = issued.writePem(outDir, service.replace('/', '-'));
            output.println(WARNING);
            output.println("issued " + issued.identity() + " (" + usage + ", valid until "
                    + issued.certificate().getNotAfter().toInstant() + ")");
            output.println("chain:        " + files.chain());
            output.println("private key:  " + files.privateKey() + " (0600)");
            output.println("trust bundle: " + files.caBundle());
            return Zt.OK;
        }
    }

    /** The key algorithm option of both {@code ca init} and {@code ca issue}. */
    static final class KeyAlgorithmOption {
        @Option(names = "--key-algorithm", paramLabel = "<algorithm>", defaultValue = "EC_P256",
                description = "One of ${COMPLETION-CANDIDATES} (default ${DEFAULT-VALUE}).")
        KeyAlgorithm keyAlgorithm = KeyAlgorithm.EC_P256;
    }
}
