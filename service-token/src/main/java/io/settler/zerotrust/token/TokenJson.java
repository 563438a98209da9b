package io.settler.zerotrust.token;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.settler.zerotrust.audit.LogSafe;
import io.settler.zerotrust.token.TokenRejectedException.Reason;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Reads a token's header and claims with Jackson's streaming parser: UTF-8 JSON objects only,
 * duplicate members refused, shallow nesting, registered claims of exactly the right JSON type.
 */
final class TokenJson {

    /** The claim names a caller may not set as extra claims. */
    static final Set<String> REGISTERED = Set.of("iss", "sub", "aud", "iat", "nbf", "exp", "jti", "scope", "cnf");
    static final String THUMBPRINT = "x5t#S256";

    private static final JsonFactory FACTORY = JsonFactory.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .streamReadConstraints(StreamReadConstraints.builder()
                    .maxNestingDepth(16).maxNumberLength(24).maxStringLength(64 * 1024).build())
            .build();
    private static final ObjectMapper MAPPER = new ObjectMapper(FACTORY);
    private static final int MAX_SCOPES = 256;
    /**
     * The last second of year 9999. Every date claim is range-checked when read, so all later
     * arithmetic ({@code exp - iat}, {@code exp + skew}) and every {@code Instant} stays in range.
     */
    static final long MAX_NUMERIC_DATE = 253_402_300_799L;

    private TokenJson() {
    }

    /** For JWKS documents: the same strict factory, as a tree-reading mapper. */
    static ObjectMapper strictMapper() {
        return MAPPER;
    }

    /** The three header members we allow. */
    record Header(@Nullable String alg, @Nullable String kid, @Nullable String typ) {
    }

    /** The claims of a token whose signature has been checked. */
    record Claims(@Nullable String iss, @Nullable String sub, @Nullable String aud, @Nullable Long iat,
                  @Nullable Long nbf, @Nullable Long exp, @Nullable String jti, @Nullable List<String> scopes,
                  @Nullable String thumbprint, Map<String, String> extra) {
    }

    static Header header(byte[] json) {
        String alg = null;
        String kid = null;
        String typ = null;
        try (JsonParser parser = open(json, "header")) {
            JsonToken token;
            while ((token = parser.nextToken()) == JsonToken.FIELD_NAME) {
                String name = parser.currentName();
                JsonToken value = parser.nextToken();
                switch (name) {
                    case "alg":
                        alg = string(parser, value, "header member 'alg'");
                        break;
                    case "kid":
                        kid = string(parser, value, "header member 'kid'");
                        break;
                    case "typ":
                        typ = string(parser, value, "header member 'typ'");
                        break;
                    default:
                        throw new TokenRejectedException(Reason.MALFORMED, "the header holds '" + LogSafe.text(name)
                                + "'; a service token header may hold only alg, kid and typ (crit, jku, jwk, x5u,"
                                + " x5c, zip and others are refused)");
                }
            }
            end(parser, token, "header");
        } catch (IOException e) {
            throw notJson("header");
        }
        return new Header(alg, kid, typ);
    }

    static Claims claims(byte[] json) {
        String iss = null;
        String sub = null;
        String aud = null;
        Long iat = null;
        Long nbf = null;
        Long exp = null;
        String jti = null;
        List<String> scopes = null;
        String thumbprint = null;
        Map<String, String> extra = Map.of();
        try (JsonParser parser = open(json, "payload")) {
            JsonToken token;
            while ((token = parser.nextToken()) == JsonToken.FIELD_NAME) {
                String name = parser.currentName();
                JsonToken value = parser.nextToken();
                switch (name) {
                    case "iss":
                        iss = string(parser, value, "claim 'iss'");
                        break;
                    case "sub":
                        sub = string(parser, value, "claim 'sub'");
                        break;
                    case "aud":
                        aud = audience(parser, value);
                        break;
                    case "iat":
                        iat = numericDate(parser, value, "iat");
                        break;
                    case "nbf":
                        nbf = numericDate(parser, value, "nbf");
                        break;
                    case "exp":
                        exp = numericDate(parser, value, "exp");
                        break;
                    case "jti":
                        jti = string(parser, value, "claim 'jti'");
                        break;
                    case "scope":
                        scopes = scopes(parser, value);
                        break;
                    case "cnf":
                        thumbprint = confirmation(parser, value);
                        break;
                    default:
                        if (value == JsonToken.VALUE_STRING) {
                            if (extra.isEmpty()) {
                                extra = new LinkedHashMap<>();
                            }
                            extra.put(name, parser.getText());
                        } else {
                            parser.skipChildren();
                        }
                }
            }
            end(parser, token, "payload");
        } catch (IOException e) {
            throw notJson("payload");
        }
        return new Claims(iss, sub, aud, iat, nbf, exp, jti, scopes, thumbprint,
                extra.isEmpty() ? extra : Collections.unmodifiableMap(extra));
    }

    private static JsonParser open(byte[] json, String part) throws IOException {
        // UTF-8 only: Jackson would also detect UTF-16/32 from zero bytes; a JOSE object starts with '{'.
        if (json.length < 2 || json[0] != '{' || json[1] == 0) {
            throw new TokenRejectedException(Reason.MALFORMED, "the " + part + " is not a UTF-8 JSON object");
        }
        JsonParser parser = FACTORY.createParser(json);
        parser.nextToken();
        return parser;
    }

    private static void end(JsonParser parser, JsonToken last, String part) throws IOException {
        if (last != JsonToken.END_OBJECT || parser.nextToken() != null) {
            throw new TokenRejectedException(Reason.MALFORMED, "the " + part + " is not exactly one JSON object");
        }
    }

    private static TokenRejectedException notJson(String part) {
        return new TokenRejectedException(Reason.MALFORMED, "the " + part
                + " is not valid JSON, repeats a member, or nests too deeply");
    }

    private static String string(JsonParser parser, JsonToken value, String what) throws IOException {
        if (value != JsonToken.VALUE_STRING) {
            throw new TokenRejectedException(Reason.MALFORMED, what + " must be a JSON string");
        }
        return parser.getText();
    }

    private static Long numericDate(JsonParser parser, JsonToken value, String claim) throws IOException {
        if (value != JsonToken.VALUE_NUMBER_INT || parser.getNumberType() == JsonParser.NumberType.BIG_INTEGER) {
            throw new TokenRejectedException(Reason.MALFORMED, "claim '" + claim
                    + "' must be an integer number of seconds since the epoch (not a string or a fraction)");
        }
        long seconds = parser.getLongValue();
        if (seconds < 0 || seconds > MAX_NUMERIC_DATE) {
            throw new TokenRejectedException(Reason.MALFORMED, "claim '" + claim + "' is " + seconds + "; a date is 0"
                    + " (1970) to " + MAX_NUMERIC_DATE + " (9999-12-31T23:59:59Z) seconds since the epoch");
        }
        return seconds;
    }

    private static String audience(JsonParser parser, JsonToken value) throws IOException {
        if (value == JsonToken.VALUE_STRING) {
            return parser.getText();
        }
        if (value == JsonToken.START_ARRAY) {
            List<String> values = strings(parser, "claim 'aud'", 2);
            if (values.size() != 1) {
                throw new TokenRejectedException(Reason.WRONG_AUDIENCE, "a service token names exactly one audience;"
                        + " this one names " + values.size());
            }
            return values.get(0);
        }
        throw new TokenRejectedException(Reason.MALFORMED, "claim 'aud' must be a string");
    }

    private static List<String> scopes(JsonParser parser, JsonToken value) throws IOException {
        if (value != JsonToken.START_ARRAY) {
            throw new TokenRejectedException(Reason.MALFORMED, "claim 'scope' must be a JSON array of strings");
        }
        List<String> scopes = strings(parser, "claim 'scope'", MAX_SCOPES);
        if (new LinkedHashSet<>(scopes).size() != scopes.size()) {
            throw new TokenRejectedException(Reason.MALFORMED, "claim 'scope' repeats a scope");
        }
        return scopes;
    }

    private static List<String> strings(JsonParser parser, String what, int max) throws IOException {
        List<String> values = new ArrayList<>(4);
        JsonToken token;
        while ((token = parser.nextToken()) == JsonToken.VALUE_STRING) {
            if (values.size() == max) {
                throw new TokenRejectedException(Reason.MALFORMED, what + " holds more than " + max + " values");
            }
            values.add(parser.getText());
        }
        if (token != JsonToken.END_ARRAY) {
            throw new TokenRejectedException(Reason.MALFORMED, what + " must be an array of strings only");
        }
        return values;
    }

    private static String confirmation(JsonParser parser, JsonToken value) throws IOException {
        if (value != JsonToken.START_OBJECT) {
            throw new TokenRejectedException(Reason.MALFORMED, "claim 'cnf' must be a JSON object");
        }
        String thumbprint = null;
        JsonToken token;
        while ((token = parser.nextToken()) == JsonToken.FIELD_NAME) {
            String name = parser.currentName();
            if (!name.equals(THUMBPRINT)) {
                throw new TokenRejectedException(Reason.MALFORMED, "claim 'cnf' holds '" + LogSafe.text(name)
                        + "'; only x5t#S256 (RFC 8705) is supported");
            }
            thumbprint = string(parser, parser.nextToken(), "cnf member 'x5t#S256'");
        }
        if (token != JsonToken.END_OBJECT || thumbprint == null) {
            throw new TokenRejectedException(Reason.MALFORMED, "claim 'cnf' must hold exactly x5t#S256");
        }
        return thumbprint;
    }
}
