package io.settler.zerotrust.queue.rabbitmq;

import com.fasterxml.jackson.databind.JsonNode;
import io.settler.zerotrust.queue.rabbitmq.RabbitMqDrift.Finding;
import io.settler.zerotrust.queue.rabbitmq.RabbitMqDrift.Kind;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Compares two definitions documents (the rendered one and a live broker's export) section by
 * section: virtual hosts, users, permissions, topic permissions, and the queues, exchanges and
 * bindings of the rendered virtual host. Each side is reduced to sorted canonical strings first,
 * so the findings come in a stable order whatever the order of the export.
 */
final class DefinitionsComparison {

    private final List<Finding> findings = new ArrayList<>();
    private final String virtualHost;
    private final List<String> ignoredUsers;

    private DefinitionsComparison(String virtualHost, List<String> ignoredUsers) {
        this.virtualHost = virtualHost;
        this.ignoredUsers = List.copyOf(ignoredUsers);
    }

    static RabbitMqDrift compare(JsonNode expected, JsonNode live, String virtualHost, List<String> ignoredUsers) {
        DefinitionsComparison comparison = new DefinitionsComparison(virtualHost, ignoredUsers);
        comparison.vhosts(expected, live);
        comparison.users(expected, live);
        comparison.permissions(expected, live);
        comparison.topicPermissions(live);
        comparison.topology("queue", expected.path("queues"), live.path("queues"), "durable", "auto_delete",
                "arguments");
        comparison.topology("exchange", expected.path("exchanges"), live.path("exchanges"), "type", "durable",
                "auto_delete", "internal", "arguments");
        comparison.bindings(expected, live);
        return new RabbitMqDrift(comparison.findings);
    }

    private void vhosts(JsonNode expected, JsonNode live) {
        SortedSet<String> want = names(expected.path("vhosts"), "name");
        SortedSet<String> have = names(live.path("vhosts"), "name");
        for (String name : want) {
            if (!have.contains(name)) {
                add(Kind.MISSING_VHOST, "virtual host " + name, "missing: the policy's users and queues live there;"
                        + " import the rendered definitions (rabbitmqctl import_definitions definitions.json)");
            }
        }
        for (String name : have) {
            if (!want.contains(name)) {
                add(Kind.UNEXPECTED_VHOST, "virtual host " + name, "not rendered from the policy: delete it"
                        + " (rabbitmqctl delete_vhost " + name + ")");
            }
        }
    }

    private void users(JsonNode expected, JsonNode live) {
        SortedSet<String> want = names(expected.path("users"), "name");
        SortedMap<String, JsonNode> have = new TreeMap<>();
        live.path("users").forEach(user -> have.put(user.path("name").asText(), user));
        for (String name : want) {
            JsonNode user = have.get(name);
            if (user == null) {
                add(Kind.MISSING_USER, "user " + name, "missing: the policy renders it; import the rendered"
                        + " definitions");
                continue;
            }
            if (!user.path("password_hash").asText("").isEmpty()) {
                add(Kind.USER_DIFFERS, "user " + name, "has a password: it could log in with PLAIN if the"
                        + " listener ever offered it; clear it (rabbitmqctl clear_password " + name + ")");
            }
            List<String> tags = tags(user.path("tags"));
            if (!tags.isEmpty()) {
                add(Kind.USER_DIFFERS, "user " + name, "has the tags " + tags + " (the policy renders none):"
                        + " rabbitmqctl set_user_tags " + name);
            }
        }
        for (String name : have.keySet()) {
            if (!want.contains(name) && !ignoredUsers.contains(name)) {
                add(Kind.UNEXPECTED_USER, "user " + name, "not in the policy: delete it (rabbitmqctl delete_user "
                        + name + "), or ignore it if another tool manages it");
            }
        }
    }

    private void permissions(JsonNode expected, JsonNode live) {
        SortedMap<String, String> want = permissionMap(expected.path("permissions"));
        SortedMap<String, String> have = permissionMap(live.path("permissions"));
        for (Map.Entry<String, String> permission : want.entrySet()) {
            String actual = have.get(permission.getKey());
            if (actual == null) {
                add(Kind.MISSING_PERMISSION, "permission of " + permission.getKey(), "missing: the policy renders "
                        + permission.getValue());
            } else if (!actual.equals(permission.getValue())) {
                add(Kind.PERMISSION_DIFFERS, "permission of " + permission.getKey(), "live " + actual
                        + ", the policy renders " + permission.getValue());
            }
        }
        have.forEach((key, actual) -> {
            if (!want.containsKey(key)) {
                add(Kind.UNEXPECTED_PERMISSION, "permission of " + key, "not rendered from the policy (" + actual
                        + "): clear it (rabbitmqctl clear_permissions)");
            }
        });
    }

    private void topicPermissions(JsonNode live) {
        SortedMap<String, String> have = new TreeMap<>();
        for (JsonNode permission : live.path("topic_permissions")) {
            String user = permission.path("user").asText();
            if (!ignoredUsers.contains(user)) {
                have.put(user + " in " + permission.path("vhost").asText() + " on exchange "
                        + permission.path("exchange").asText(), "write " + permission.path("write").asText()
                        + " read " + permission.path("read").asText());
            }
        }
        have.forEach((key, value) -> add(Kind.UNEXPECTED_TOPIC_PERMISSION, "topic permission of " + key,
                "the policy renders none (" + value + "): clear it (rabbitmqctl clear_topic_permissions)"));
    }

    private void topology(String what, JsonNode expected, JsonNode live, String... fields) {
        SortedMap<String, String> want = canonical(expected, fields);
        SortedMap<String, String> have = canonical(live, fields);
        want.forEach((name, shape) -> {
            String actual = have.get(name);
            if (actual == null) {
                add(Kind.MISSING_TOPOLOGY, what + " " + name, "missing (" + shape + "): import the rendered"
                        + " definitions");
            } else if (!actual.equals(shape)) {
                add(Kind.TOPOLOGY_DIFFERS, what + " " + name, "live " + actual + ", the policy renders " + shape);
            }
        });
        have.forEach((name, shape) -> {
            if (!want.containsKey(name)) {
                add(Kind.UNEXPECTED_TOPOLOGY, what + " " + name, "not rendered from the policy (" + shape
                        + "): delete it");
            }
        });
    }

    private void bindings(JsonNode expected, JsonNode live) {
        SortedSet<String> want = bindingSet(expected.path("bindings"));
        SortedSet<String> have = bindingSet(live.path("bindings"));
        for (String binding : want) {
            if (!have.contains(binding)) {
                add(Kind.MISSING_TOPOLOGY, "binding " + binding, "missing: import the rendered definitions");
            }
        }
        for (String binding : have) {
            if (!want.contains(binding)) {
                add(Kind.UNEXPECTED_TOPOLOGY, "binding " + binding, "not rendered from the policy (it may copy"
                        + " messages elsewhere): delete it");
            }
        }
    }

    private SortedMap<String, String> permissionMap(JsonNode permissions) {
        SortedMap<String, String> map = new TreeMap<>();
        for (JsonNode permission : permissions) {
            String user = permission.path("user").asText();
            if (!ignoredUsers.contains(user)) {
                map.put(user + " in " + permission.path("vhost").asText(), "configure '"
                        + permission.path("configure").asText() + "' write '" + permission.path("write").asText()
                        + "' read '" + permission.path("read").asText() + "'");
            }
        }
        return map;
    }

    /** Name to the listed fields, for the rendered virtual host only, less RabbitMQ's own {@code amq.*} exchanges. */
    private SortedMap<String, String> canonical(JsonNode items, String... fields) {
        SortedMap<String, String> map = new TreeMap<>();
        for (JsonNode item : items) {
            String name = item.path("name").asText();
            if (!item.path("vhost").asText().equals(virtualHost) || name.isEmpty() || name.startsWith("amq.")) {
                continue;
            }
            StringBuilder shape = new StringBuilder();
            for (String field : fields) {
                JsonNode value = item.path(field);
                // RabbitMQ 3.10 leaves internal out of an export when it is false.
                String text = value.isMissingNode() && field.equals("internal") ? "false" : value(value);
                shape.append(shape.length() == 0 ? "" : ", ").append(field).append('=').append(text);
            }
            map.put(name, shape.toString());
        }
        return map;
    }

    private SortedSet<String> bindingSet(JsonNode bindings) {
        SortedSet<String> set = new TreeSet<>();
        for (JsonNode binding : bindings) {
            if (binding.path("vhost").asText().equals(virtualHost)) {
                set.add(binding.path("source").asText() + " -> " + binding.path("destination_type").asText() + " "
                        + binding.path("destination").asText() + " (routing key '"
                        + binding.path("routing_key").asText() + "', arguments " + value(binding.path("arguments"))
                        + ")");
            }
        }
        return set;
    }

    /** A JSON value with object fields sorted, so that two orders of the same arguments compare equal. */
    private static String value(JsonNode node) {
        if (node.isObject()) {
            SortedMap<String, String> fields = new TreeMap<>();
            node.properties().forEach(field -> fields.put(field.getKey(), value(field.getValue())));
            return fields.toString();
        }
        return node.isMissingNode() ? "none" : node.toString();
    }

    private static SortedSet<String> names(JsonNode items, String field) {
        SortedSet<String> names = new TreeSet<>();
        items.forEach(item -> names.add(item.path(field).asText()));
        return names;
    }

    /** A user's tags: a list (3.9 and later) or a comma-separated string (older exports). */
    private static List<String> tags(JsonNode tags) {
        List<String> list = new ArrayList<>();
        if (tags.isArray()) {
            tags.forEach(tag -> list.add(tag.asText()));
        } else if (tags.isTextual()) {
            for (String tag : tags.asText().split(",")) {
                if (!tag.isBlank()) {
                    list.add(tag.strip());
                }
            }
        }
        return list;
    }

    private void add(Kind kind, String subject, String detail) {
        findings.add(new Finding(kind, subject, detail));
    }
}
