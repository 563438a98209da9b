package io.settler.zerotrust.cli;

import io.settler.zerotrust.credentials.CertificateFingerprint;
import io.settler.zerotrust.credentials.CredentialException;
import io.settler.zerotrust.credentials.TrustBundle;
import io.settler.zerotrust.identity.CertificateIdentityException;
import io.settler.zerotrust.identity.ServiceIdentity;
import io.settler.zerotrust.trust.PeerCertificateVerifier;
import io.settler.zerotrust.trust.PeerName;
import io.settler.zerotrust.trust.PeerVerificationException;
import io.settler.zerotrust.trust.VerifiedPeer;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code zt cert}: what a certificate is, and the library's verdict on it. */
@Command(name = "cert", mixinStandardHelpOptions = true, description = "Certificates.",
        subcommands = CertCommand.Inspect.class)
final class CertCommand {

    private static final Map<String, String> EKU = Map.of(
            "1.3.6.1.5.5.7.3.1", "serverAuth",
            "1.3.6.1.5.5.7.3.2", "clientAuth",
            "1.3.6.1.5.5.7.3.3", "codeSigning",
            "1.3.6.1.5.5.7.3.4", "emailProtection",
            "2.5.29.37.0", "anyExtendedKeyUsage");
    private static final Map<Integer, String> SAN_TYPES = Map.of(
            1, "email", 2, "DNS", 4, "directory", 6, "URI", 7, "IP");

    /** {@code zt cert inspect}. */
    @Command(name = "inspect", mixinStandardHelpOptions = true,
            description = {"Shows a certificate: identity, SANs, extended key usage, validity, SHA-256 fingerprint.",
                "With --trust, the library's verdict (PeerCertificateVerifier): accepted, or refused and why"
                        + " (exit 1). With --expect it is verified as a server reached under that name,"
                        + " without as a client."},
            exitCodeListHeading = "%nExit codes:%n",
            exitCodeList = {"0:shown (and accepted, with --trust)", "1:refused by the library", "2:usage error"})
    static final class Inspect implements Callable<Integer> {

        @Spec
        @Nullable CommandSpec spec;

        @Parameters(index = "0", paramLabel = "<file>", description = "PEM (or DER) certificate, leaf first,"
                + " then any intermediates.")
        @Nullable Path file;

        @Option(names = "--trust", paramLabel = "<bundle>", description = "PEM trust bundle (CA certificates).")
        @Nullable Path trust;

        @Option(names = "--expect", paramLabel = "<spiffe-id|host>",
                description = "The name a client expects: a SPIFFE ID, a DNS name or an IP address (needs --trust).")
        @Nullable String expect;

        @Override
        public Integer call() {
            PrintWriter out = Commands.out(spec);
            List<X509Certificate> chain = Inputs.certificates(Commands.required(file, "<file>"));
            if (expect != null && trust == null) {
                throw new UsageException("--expect needs --trust <bundle>: the name is checked as part of the"
                        + " verification against a trust bundle");
            }
            X509Certificate leaf = chain.get(0);
            out.println("subject:     " + leaf.getSubjectX500Principal().getName());
            out.println("issuer:      " + leaf.getIssuerX500Principal().getName());
            out.println("identity:    " + identity(leaf));
            out.println("SANs:        " + sans(leaf));
            out.println("EKU:         " + extendedKeyUsage(leaf));
            Instant now = Instant.now();
            Instant notBefore = leaf.getNotBefore().toInstant();
            Instant notAfter = leaf.getNotAfter().toInstant();
            String state = now.isBefore(notBefore) ? "NOT YET VALID" : now.isAfter(notAfter) ? "EXPIRED" : "valid now";
            out.println("validity:    " + notBefore + " to " + notAfter + " (" + state + ")");
            out.println("CA:          " + (leaf.getBasicConstraints() >= 0 ? "yes" : "no"));
            out.println("SHA-256:     " + CertificateFingerprint.sha256(leaf));
            if (chain.size() > 1) {
                out.println("chain:       " + (chain.size() - 1) + " more certificate(s) after the leaf");
            }
            Path bundle = trust;
            if (bundle == null) {
                return Zt.OK;
            }
            Collection<X509Certificate> anchors;
            try {
                anchors = TrustBundle.fromPem(Inputs.existingFile(bundle, "trust bundle (PEM)")).anchors();
            } catch (CredentialException e) {
                throw new UsageException("the trust bundle " + bundle + " is refused: " + e.getMessage(), e);
            }
            PeerCertificateVerifier verifier = PeerCertificateVerifier.builder().trustAnchors(anchors).build();
            String wanted = expect;
            try {
                VerifiedPeer peer = wanted == null
                        ? verifier.verifyClient(chain)
                        : verifier.verifyServer(chain, expected(wanted));
                out.println("verdict:     ACCEPTED as a " + (wanted == null ? "client" : "server named " + wanted)
                        + " (trust anchor " + peer.trustAnchor().getSubjectX500Principal().getName() + ")");
                return Zt.OK;
            } catch (PeerVerificationException e) {
                out.println("verdict:     REFUSED " + e.reason() + ": " + e.getMessage());
                return Zt.FINDING;
            }
        }

        private static PeerName expected(String text) {
            try {
                return PeerName.parse(text);
            } catch (IllegalArgumentException e) {
                throw new UsageException("--expect " + text + ": " + e.getMessage()
                        + "; give a SPIFFE ID, a DNS name or an IP address", e);
            }
        }
    }

    private static String identity(X509Certificate leaf) {
        try {
            Optional<ServiceIdentity> identity = ServiceIdentity.fromCertificate(leaf);
            return identity.map(ServiceIdentity::toString).orElse("(none: no SPIFFE ID)");
        } catch (CertificateIdentityException e) {
            return "REFUSED " + e.reason() + ": " + e.getMessage();
        }
    }

    private static String sans(X509Certificate leaf) {
        try {
            Collection<List<?>> names = leaf.getSubjectAlternativeNames();
            if (names == null) {
                return "(none)";
            }
            List<String> shown = new ArrayList<>();
            for (List<?> name : names) {
                shown.add(SAN_TYPES.getOrDefault((Integer) name.get(0), "type " + name.get(0)) + ":" + name.get(1));
            }
            return String.join(", ", shown);
        } catch (CertificateParsingException e) {
            return "(unreadable: " + e.getMessage() + ")";
        }
    }

    private static String extendedKeyUsage(X509Certificate leaf) {
        try {
            List<String> usages = leaf.getExtendedKeyUsage();
            if (usages == null) {
                return "(none)";
            }
            return String.join(", ", usages.stream().map(oid -> EKU.getOrDefault(oid, oid)).toList());
        } catch (CertificateParsingException e) {
            return "(unreadable: " + e.getMessage() + ")";
        }
    }
}
