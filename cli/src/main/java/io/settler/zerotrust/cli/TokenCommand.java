package io.settler.zerotrust.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.settler.zerotrust.credentials.CredentialException;
import io.settler.zerotrust.credentials.CredentialSource;
import io.settler.zerotrust.credentials.TrustBundle;
import io.settler.zerotrust.identity.InvalidServiceIdentityException;
import io.settler.zerotrust.tls.MtlsContext;
import io.settler.zerotrust.token.JwksSource;
import io.settler.zerotrust.token.KeySet;
import io.settler.zerotrust.token.KeySource;
import io.settler.zerotrust.token.ServiceTokenException;
import io.settler.zerotrust.token.ServiceTokens;
import io.settler.zerotrust.token.TokenRejectedException;
import io.settler.zerotrust.token.VerifiedToken;
import java.io.PrintWriter;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.Callable;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code zt token}: what a token says, and whether the library accepts it. */
@Command(name = "token", mixinStandardHelpOptions = true,
        description = "Service tokens. A token on the command line lands in the shell's history: pass it as"
                + " @<file> (a file holding the token) instead.",
        subcommands = {TokenCommand.Inspect.class, TokenCommand.Verify.class})
final class TokenCommand {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** {@code zt token inspect}. */
    @Command(name = "inspect", mixinStandardHelpOptions = true,
            description = "Decodes a token's header and claims WITHOUT verifying anything (signature, issuer,"
                    + " audience, expiry): what it claims, not whether it is true. Use 'zt token verify' for that.",
            exitCodeListHeading = "%nExit codes:%n",
            exitCodeList = {"0:decoded (not verified)", "2:not a compact JWS of base64url JSON"})
    static final class Inspect implements Callable<Integer> {

        @Spec
        @Nullable CommandSpec spec;

        @Parameters(index = "0", paramLabel = "<token>", description = "The token (or @<file> holding it).")
        String token = "";

        @Override
        public Integer call() {
            PrintWriter out = Commands.out(spec);
            String[] parts = token.strip().split("\\.", -1);
            if (parts.length != 3) {
                throw new UsageException("not a compact JWS: expected three base64url parts separated by '.',"
                        + " found " + parts.length + "; pass the token itself");
            }
            JsonNode header = decode(parts[0], "header");
            JsonNode claims = decode(parts[1], "claims");
            out.println("NOT VERIFIED: decoded without checking the signature, issuer, audience or expiry;"
                    + " use 'zt token verify' for the library's verdict");
            out.println("header: " + header.toPrettyString());
            out.println("claims: " + claims.toPrettyString());
            for (String time : List.of("iat", "nbf", "exp")) {
                JsonNode value = claims.get(time);
                if (value != null && value.canConvertToLong()) {
                    Instant instant = Instant.ofEpochSecond(value.asLong());
                    String note = time.equals("exp") && instant.isBefore(Instant.now()) ? " (passed)" : "";
                    out.println(time + ": " + instant + note);
                }
            }
            return Zt.OK;
        }

        private static JsonNode decode(String part, String what) {
            try {
                JsonNode node = JSON.readTree(new String(Base64.getUrlDecoder().decode(part),
                        StandardCharsets.UTF_8));
                if (node == null || !node.isObject()) {
                    throw new UsageException("the token's " + what + " is not a JSON object; pass a service token");
                }
                return node;
            } catch (IllegalArgumentException | JsonProcessingException e) {
                throw new UsageException("the token's " + what + " is not base64url JSON (" + e.getMessage()
                        + "); pass a service token", e);
            }
        }
    }

    /** {@code zt token verify}. */
    @Command(name = "verify", mixinStandardHelpOptions = true,
            description = {"The library's verdict on a token (ServiceTokens.verify) for the audience, with the"
                    + " issuer's keys from a JWK Set file or an https URL: accepted, or refused with the reason"
                    + " (TokenRejectedException.reason()).",
                "Every check a service makes, except replay and the certificate binding (no connection here:"
                        + " a certificate-bound token is refused as CERTIFICATE_MISMATCH).",
                "An https URL is fetched by the library's JwksSource over mutual TLS, as a service fetches it:"
                        + " present your certificate (--cert, --key); the server's must chain to --jwks-trust (default:"
                        + " the JDK's trust anchors that the library accepts) and name the URL's host (or"
                        + " --jwks-server). The keys are pinned to --issuer. http:// and other schemes are refused."},
            exitCodeListHeading = "%nExit codes:%n",
            exitCodeList = {"0:accepted", "1:refused (the reason is printed)", "2:usage error",
                "3:could not check: the JWKS URL was not reached, refused the TLS handshake or gave no JWK Set"})
    static final class Verify implements Callable<Integer> {

        @Spec
        @Nullable CommandSpec spec;

        @Parameters(index = "0", paramLabel = "<token>", description = "The token (or @<file> holding it).")
        String token = "";

        @Option(names = "--jwks", required = true, paramLabel = "<file|https-url>",
                description = "The issuer's verification keys: a JWK Set file, or the https URL that serves it.")
        String jwks = "";

        @Option(names = "--jwks-trust", paramLabel = "<bundle.pem>",
                description = "https: the CA certificates the JWKS server's certificate must chain to (default: the"
                        + " JDK's trust anchors, less those the library refuses, e.g. expired ones).")
        @Nullable Path jwksTrust;

        @Option(names = "--jwks-server", paramLabel = "<spiffe-id|host>",
                description = "https: the name the JWKS server's certificate must prove (default: the URL's host).")
        @Nullable String jwksServer;

        @Mixin
        ClientCertificate certificate = new ClientCertificate();

        @Option(names = "--audience", required = true, paramLabel = "<spiffe-id>",
                description = "The service that receives the token (its aud).")
        String audience = "";

        @Option(names = "--issuer", required = true, paramLabel = "<spiffe-id>",
                description = "The service trusted to issue it (its iss).")
        String issuer = "";

        @Option(names = "--scope", paramLabel = "<scope>", description = "A scope the token must hold (repeatable).")
        List<String> scopes = new ArrayList<>();

        @Override
        public Integer call() {
            PrintWriter out = Commands.out(spec);
            ServiceTokens verifier;
            try {
                verifier = ServiceTokens.builder().identity(audience).verificationKeys(keys())
                        .trustIssuers(issuer).auditLog(event -> { }).build();
            } catch (ServiceTokenException | InvalidServiceIdentityException e) {
                throw new UsageException(e.getMessage() + " (--audience and --issuer are SPIFFE IDs)", e);
            }
            try {
                VerifiedToken verified = verifier.verify(token.strip(), scopes.toArray(String[]::new));
                out.println("ACCEPTED: " + verified.service() + " -> " + verified.audience() + ", issued by "
                        + verified.issuer() + ", scopes " + verified.scopes() + ", expires " + verified.expiresAt());
                return Zt.OK;
            } catch (TokenRejectedException e) {
                out.println("REFUSED " + e.reason() + ": " + e.getMessage());
                return Zt.FINDING;
            }
        }

        /** The keys of {@code --jwks}: a file, or fetched once from an https URL. */
        private KeySource keys() {
            String location = jwks.strip();
            if (!location.contains("://")) {
                Path file = Path.of(location);
                try {
                    return KeySet.fromJwks(Inputs.text(file, "JWK Set file"));
                } catch (ServiceTokenException e) {
                    throw new UsageException("the JWK Set " + file + " is refused: " + e.getMessage(), e);
                }
            }
            URI uri;
            try {
                uri = new URI(location);
            } catch (URISyntaxException e) {
                throw new UsageException("--jwks " + location + " is not a URL (" + e.getMessage() + "); name a file"
                        + " or an https:// URL", e);
            }
            if (!"https".equalsIgnoreCase(uri.getScheme()) || uri.getHost() == null) {
                throw new UsageException("--jwks takes a file or an https://<host>/... URL, not " + uri.getScheme()
                        + "://: keys fetched without TLS could be anyone's; serve the JWK Set over https");
            }
            TrustBundle trust = jwksTrust != null ? ClientCertificate.trust(jwksTrust, "--jwks-trust")
                    : jdkTrustAnchors();
            MtlsContext.Builder tls = MtlsContext.client(CredentialSource.fixed(
                    certificate.identity("--jwks <https-url>"), trust));
            if (jwksServer != null) {
                tls.expectedServer(jwksServer);
            }
            JwksSource source = JwksSource.builder(JwksSource.https(uri, tls.build())).pinnedTo(issuer).build();
            try {
                source.refresh();
            } catch (ServiceTokenException e) {
                throw new CouldNotCheckException(e.getMessage(), e);
            }
            return source;
        }

        /**
         * The JDK's default trust anchors (its {@code cacerts}), each as the library accepts it
         * ({@link TrustBundle#of}): one it refuses, e.g. an expired root the JDK still ships, is left out.
         */
        private static TrustBundle jdkTrustAnchors() {
            List<X509Certificate> anchors = new ArrayList<>();
            try {
                TrustManagerFactory factory =
                        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
                factory.init((KeyStore) null);
                for (TrustManager manager : factory.getTrustManagers()) {
                    if (manager instanceof X509TrustManager x509) {
                        for (X509Certificate anchor : x509.getAcceptedIssuers()) {
                            try {
                                TrustBundle.of(List.of(anchor));
                                anchors.add(anchor);
                            } catch (CredentialException e) {
                                // refused by the library (the reason is in its log with --verbose): left out
                            }
                        }
                    }
                }
            } catch (GeneralSecurityException e) {
                throw new UsageException("the JDK's default trust anchors cannot be read (" + e.getMessage()
                        + "); name the JWKS server's CA with --jwks-trust", e);
            }
            if (anchors.isEmpty()) {
                throw new UsageException("the JDK has no trust anchors the library accepts; name the JWKS server's CA"
                        + " with --jwks-trust");
            }
            return TrustBundle.of(anchors);
        }
    }
}
