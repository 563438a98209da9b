package io.settler.zerotrust.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.settler.zerotrust.identity.InvalidServiceIdentityException;
import io.settler.zerotrust.token.KeySet;
import io.settler.zerotrust.token.ServiceTokenException;
import io.settler.zerotrust.token.ServiceTokens;
import io.settler.zerotrust.token.TokenRejectedException;
import io.settler.zerotrust.token.VerifiedToken;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.Callable;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
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
                    + " issuer's keys from a JWKS file: accepted, or refused with the reason"
                    + " (TokenRejectedException.reason()).",
                "Every check a service makes, except replay and the certificate binding (no connection here:"
                        + " a certificate-bound token is refused as CERTIFICATE_MISMATCH)."},
            exitCodeListHeading = "%nExit codes:%n",
            exitCodeList = {"0:accepted", "1:refused (the reason is printed)", "2:usage error"})
    static final class Verify implements Callable<Integer> {

        @Spec
        @Nullable CommandSpec spec;

        @Parameters(index = "0", paramLabel = "<token>", description = "The token (or @<file> holding it).")
        String token = "";

        @Option(names = "--jwks", required = true, paramLabel = "<file>",
                description = "The issuer's verification keys, a JWK Set file.")
        @Nullable Path jwks;

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
            Path jwksFile = Commands.required(jwks, "--jwks");
            KeySet keys;
            try {
                keys = KeySet.fromJwks(Inputs.text(jwksFile, "JWK Set file"));
            } catch (ServiceTokenException e) {
                throw new UsageException("the JWK Set " + jwksFile + " is refused: " + e.getMessage(), e);
            }
            ServiceTokens verifier;
            try {
                verifier = ServiceTokens.builder().identity(audience).verificationKeys(keys)
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
    }
}
