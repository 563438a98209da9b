package io.settler.zerotrust.policy;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.settler.zerotrust.audit.LogSafe;
import io.settler.zerotrust.authz.PeerRule;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/** Reads the JSON form of a {@link Policy} strictly: unknown fields, duplicates and wrong types are errors. */
final class PolicyJson {

    private static final long MAX_FILE_BYTES = 1 << 20;
    private static final ObjectMapper MAPPER = JsonMapper.builder(JsonFactory.builder()
                    .streamReadConstraints(StreamReadConstraints.builder()
                            .maxNestingDepth(16).maxStringLength(16_384).maxNumberLength(32).build())
                    .build())
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();
    private static final Set<String> TOP = Set.of("trustDomain", "services");
    private static final Set<String> SERVICE = Set.of("path", "scopes", "accepts");
    private static final Set<String> ACCEPT = Set.of("service", "identity", "pathPrefix", "trustDomain", "networks");
    private static final List<String> ACCEPT_KINDS = List.of("service", "identity", "pathPrefix", "trustDomain");

    private PolicyJson() {
    }

    static Policy read(Path file) {
        String text;
        try {
            if (Files.size(file) > MAX_FILE_BYTES) {
                throw new PolicyException(PolicyException.Reason.MALFORMED_JSON, file + " is larger than "
                        + MAX_FILE_BYTES + " bytes; a policy file is small");
            }
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new PolicyException(PolicyException.Reason.FILE_UNREADABLE, "cannot read the policy file "
                    + file + " (" + e.getClass().getSimpleName() + "); check the path and its permissions", e);
        }
        return parse(text, file.toString());
    }

    static Policy parse(String json, String source) {
        JsonNode root;
        try {
            root = MAPPER.readTree(json);
        } catch (StreamConstraintsException e) {
            throw new PolicyException(PolicyException.Reason.MALFORMED_JSON, source + " is too large or too deeply"
                    + " nested to be a policy", e);
        } catch (JsonProcessingException e) {
            throw new PolicyException(PolicyException.Reason.MALFORMED_JSON, source + " is not valid JSON: "
                    + LogSafe.text(e.getOriginalMessage()) + " at line " + (e.getLocation() == null ? "?"
                    : e.getLocation().getLineNr()), e);
        }
        try {
            return policy(root);
        } catch (PolicyException e) {
            String message = Objects.requireNonNullElse(e.getMessage(), "");
            throw message.startsWith(source) ? e : new PolicyException(e.reason(), source + ": " + message, e);
        }
    }

    private static Policy policy(JsonNode root) {
        object(root, "$", TOP);
        Policy.Builder builder = Policy.builder(text(required(root, "trustDomain", "$"), "$.trustDomain"));
        JsonNode services = object(required(root, "services", "$"), "$.services", null);
        for (Map.Entry<String, JsonNode> entry : services.properties()) {
            String name = entry.getKey();
            String at = "$.services." + LogSafe.text(name);
            JsonNode service = object(entry.getValue(), at, SERVICE);
            String path = service.has("path") ? text(service.get("path"), at + ".path") : name;
            builder.service(name, path, definition -> {
                for (JsonNode scope : array(service.get("scopes"), at + ".scopes")) {
                    definition.scopes(text(scope, at + ".scopes[]"));
                }
                int index = 0;
                for (JsonNode accept : array(service.get("accepts"), at + ".accepts")) {
                    accept(definition, accept, at + ".accepts[" + index++ + "]");
                }
            });
        }
        return builder.build();
    }

    private static void accept(Policy.ServiceBuilder service, JsonNode accept, String at) {
        object(accept, at, ACCEPT);
        List<String> kinds = ACCEPT_KINDS.stream().filter(accept::has).toList();
        if (kinds.size() != 1) {
            throw new PolicyException(kinds.isEmpty() ? PolicyException.Reason.MISSING_FIELD
                    : PolicyException.Reason.INVALID_VALUE, at + " must name exactly one of " + ACCEPT_KINDS
                    + "; found " + kinds);
        }
        String kind = kinds.get(0);
        String value = text(accept.get(kind), at + "." + kind);
        List<String> networks = new ArrayList<>();
        for (JsonNode network : array(accept.get("networks"), at + ".networks")) {
            networks.add(text(network, at + ".networks[]"));
        }
        if (accept.has("networks") && networks.isEmpty()) {
            throw service.emptyNetworks(at + ".networks", "leave the 'networks' key out");
        }
        if (kind.equals("service")) {
            if (networks.isEmpty()) {
                service.acceptService(value);
            } else {
                service.acceptService(value, networks);
            }
            return;
        }
        PeerRule rule;
        try {
            rule = switch (kind) {
                case "identity" -> PeerRule.identity(value);
                case "pathPrefix" -> PeerRule.pathPrefix(service.trustDomain(), value);
                default -> PeerRule.trustDomain(value);
            };
            service.accept(networks.isEmpty() ? rule
                    : PeerRule.allOf(rule, PeerRule.fromNetworks(networks.toArray(String[]::new))));
        } catch (IllegalArgumentException e) { // includes InvalidServiceIdentityException
            throw new PolicyException(PolicyException.Reason.INVALID_VALUE, at + ": " + e.getMessage(), e);
        }
    }

    private static JsonNode required(JsonNode parent, String field, String at) {
        JsonNode node = parent.get(field);
        if (node == null || node.isNull()) {
            throw new PolicyException(PolicyException.Reason.MISSING_FIELD, at + " needs the field '" + field + "'");
        }
        return node;
    }

    private static JsonNode object(@Nullable JsonNode node, String at, @Nullable Set<String> allowed) {
        if (node == null || !node.isObject()) {
            throw new PolicyException(PolicyException.Reason.INVALID_VALUE, at + " must be a JSON object");
        }
        if (allowed != null) {
            for (Iterator<String> names = node.fieldNames(); names.hasNext(); ) {
                String name = names.next();
                if (!allowed.contains(name)) {
                    throw new PolicyException(PolicyException.Reason.UNKNOWN_FIELD, at + " has the unknown field '"
                            + LogSafe.text(name) + "'; allowed: " + allowed.stream().sorted().toList());
                }
            }
        }
        return node;
    }

    private static Iterable<JsonNode> array(JsonNode node, String at) {
        if (node == null) {
            return List.of();
        }
        if (!node.isArray()) {
            throw new PolicyException(PolicyException.Reason.INVALID_VALUE, at + " must be a JSON array");
        }
        return node;
    }

    private static String text(JsonNode node, String at) {
        if (node == null || !node.isTextual()) {
            throw new PolicyException(PolicyException.Reason.INVALID_VALUE, at + " must be a string");
        }
        return node.textValue();
    }
}
