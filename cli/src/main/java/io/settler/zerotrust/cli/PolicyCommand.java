package io.settler.zerotrust.cli;

import io.settler.zerotrust.authz.AuthorizationDecision;
import io.settler.zerotrust.authz.Peer;
import io.settler.zerotrust.authz.PeerAuthorizer;
import io.settler.zerotrust.authz.PeerRule;
import io.settler.zerotrust.network.IpAddressLiteral;
import io.settler.zerotrust.policy.Policy;
import io.settler.zerotrust.policy.PolicyException;
import io.settler.zerotrust.policy.ServicePolicy;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code zt policy}: is a policy valid, and would a call be allowed. */
@Command(name = "policy", mixinStandardHelpOptions = true, description = "Policies (policy.json).",
        subcommands = {PolicyCommand.Check.class, PolicyCommand.Explain.class})
final class PolicyCommand {

    /** Loads the policy as the library does; an invalid one is a finding, printed, and {@code null}. */
    static @Nullable Policy load(Path file, PrintWriter out) {
        Inputs.existingFile(file, "policy file (JSON)");
        try {
            return Policy.fromJson(file);
        } catch (PolicyException e) {
            out.println("INVALID " + e.reason() + ": " + e.getMessage());
            return null;
        }
    }

    /** {@code zt policy check}. */
    @Command(name = "check", mixinStandardHelpOptions = true,
            description = "Loads a policy as the library does (Policy.fromJson) and lists its services; an invalid"
                    + " policy is refused with the loader's reason and message (exit 1).",
            exitCodeListHeading = "%nExit codes:%n",
            exitCodeList = {"0:valid", "1:invalid (the reason and what to fix are printed)", "2:usage error"})
    static final class Check implements Callable<Integer> {

        @Spec
        @Nullable CommandSpec spec;

        @Parameters(index = "0", paramLabel = "<policy.json>", description = "The policy file.")
        @Nullable Path file;

        @Override
        public Integer call() {
            PrintWriter out = Commands.out(spec);
            Policy policy = load(Commands.required(file, "<policy.json>"), out);
            if (policy == null) {
                return Zt.FINDING;
            }
            out.println("valid: trust domain " + policy.trustDomain() + ", " + policy.services().size()
                    + " service(s)");
            for (ServicePolicy service : policy.services()) {
                out.println("  " + service.name() + " (" + service.identity() + ")");
                out.println("    scopes:  " + (service.scopes().isEmpty() ? "(none)" : String.join(", ",
                        service.scopes())));
                out.println("    accepts: " + (service.accepts().isEmpty() ? "(no one: takes no connections)"
                        : String.join("; ", service.accepts().stream().map(PeerRule::describe).toList())));
            }
            return Zt.OK;
        }
    }

    /** {@code zt policy explain}. */
    @Command(name = "explain", mixinStandardHelpOptions = true,
            description = {"Would a call from one service of the policy to another be allowed, and by which rule?",
                "The connection is decided by the target's authorizer (Policy.authorizerFor, a PeerAuthorizer),"
                        + " each --scope by the scopes the policy grants the caller."},
            exitCodeListHeading = "%nExit codes:%n",
            exitCodeList = {"0:allowed", "1:refused, or the policy is invalid", "2:usage error"})
    static final class Explain implements Callable<Integer> {

        @Spec
        @Nullable CommandSpec spec;

        @Parameters(index = "0", paramLabel = "<policy.json>", description = "The policy file.")
        @Nullable Path file;

        @Option(names = "--from", required = true, paramLabel = "<service>", description = "The calling service.")
        String from = "";

        @Option(names = "--to", required = true, paramLabel = "<service>", description = "The called service.")
        String to = "";

        @Option(names = "--scope", paramLabel = "<scope>",
                description = "A scope the call needs, e.g. orders:write (repeatable).")
        List<String> scopes = new ArrayList<>();

        @Option(names = "--network", paramLabel = "<ip>", description = "The caller's IP address.")
        @Nullable String network;

        @Override
        public Integer call() {
            PrintWriter out = Commands.out(spec);
            Policy policy = load(Commands.required(file, "<policy.json>"), out);
            if (policy == null) {
                return Zt.FINDING;
            }
            ServicePolicy caller = service(policy, from, "--from");
            ServicePolicy target = service(policy, to, "--to");
            String address = network;
            Optional<InetAddress> ip = Optional.empty();
            if (address != null) {
                try {
                    ip = Optional.of(IpAddressLiteral.parse(address));
                } catch (IllegalArgumentException e) {
                    throw new UsageException("--network " + address + ": " + e.getMessage()
                            + "; give the caller's IP address", e);
                }
            }
            boolean allowed;
            String call = caller.name() + " (" + caller.identity() + ") -> " + target.name()
                    + ip.map(a -> " from " + a.getHostAddress()).orElse("");
            PeerAuthorizer authorizer;
            try {
                authorizer = policy.authorizerFor(target.name());
            } catch (PolicyException e) {
                out.println("REFUSED " + call + ": " + e.getMessage());
                return Zt.FINDING;
            }
            AuthorizationDecision decision = authorizer.authorize(new Peer(Optional.of(caller.identity()), ip));
            if (decision.allowed()) {
                out.println("ALLOWED " + call + ": by the rule " + decision.matchedRule().orElse("?")
                        + " of " + target.name() + "'s accepts");
            } else {
                out.println("REFUSED " + call + ": " + decision.reason() + " of " + target.name() + " ("
                        + authorizer.summary() + ")");
            }
            allowed = decision.allowed();
            for (String scope : scopes) {
                if (caller.mayHold(scope)) {
                    out.println("  scope " + scope + ": granted to " + caller.name());
                } else {
                    out.println("  scope " + scope + ": REFUSED, the policy does not grant it to " + caller.name()
                            + " (it may hold " + caller.scopes() + ")");
                    allowed = false;
                }
            }
            return allowed ? Zt.OK : Zt.FINDING;
        }

        private static ServicePolicy service(Policy policy, String name, String option) {
            return policy.service(name).orElseThrow(() -> new UsageException(option + " " + name
                    + ": the policy has no such service; it defines "
                    + policy.services().stream().map(ServicePolicy::name).toList()));
        }
    }
}
