package io.settler.zerotrust.examples;

import static org.assertj.core.api.Assertions.assertThat;

import io.settler.zerotrust.audit.AuditAction;
import io.settler.zerotrust.audit.CoreAudit;
import io.settler.zerotrust.jdbc.PostgresAudit;
import io.settler.zerotrust.netty.NettyAudit;
import io.settler.zerotrust.queue.QueueAudit;
import io.settler.zerotrust.queue.rabbitmq.RabbitMqAudit;
import io.settler.zerotrust.redis.RedisAudit;
import io.settler.zerotrust.spring.SpringAudit;
import io.settler.zerotrust.token.TokenAudit;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The operators' list of audit events, {@code docs/audit-events.md}, is the library's catalogue: this
 * test renders it from the catalogue enums and fails when the file differs (writing what it should be to
 * {@code target/audit-events.md}), when a module declares a catalogue this list does not name, or when
 * the catalogue is inconsistent for a metrics backend.
 */
class AuditCatalogueDocTest {

    /** Each module's catalogue, in the module order of the reactor. */
    private static final Map<String, List<? extends AuditAction>> CATALOGUES = catalogues();
    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
    private static final Pattern DECLARATION = Pattern.compile("public enum (\\w+) implements AuditAction");

    private static Map<String, List<? extends AuditAction>> catalogues() {
        Map<String, List<? extends AuditAction>> catalogues = new LinkedHashMap<>();
        catalogues.put("core", List.of(CoreAudit.values()));
        catalogues.put("service-token", List.of(TokenAudit.values()));
        catalogues.put("netty-mtls", List.of(NettyAudit.values()));
        catalogues.put("jdbc-mtls", List.of(PostgresAudit.values()));
        catalogues.put("redis-tls", List.of(RedisAudit.values()));
        catalogues.put("queue", List.of(QueueAudit.values()));
        catalogues.put("queue-rabbitmq", List.of(RabbitMqAudit.values()));
        catalogues.put("spring-boot-autoconfigure", List.of(SpringAudit.values()));
        return catalogues;
    }

    @Test
    void theOperatorsListIsTheCatalogue() throws IOException {
        String expected = render();
        Path file = ROOT.resolve("docs/audit-events.md");
        String actual = Files.exists(file) ? Files.readString(file, StandardCharsets.UTF_8) : "";
        if (!actual.equals(expected)) {
            Path rendered = Path.of("target/audit-events.md");
            Files.createDirectories(rendered.getParent());
            Files.writeString(rendered, expected, StandardCharsets.UTF_8);
        }
        assertThat(actual).as("docs/audit-events.md is out of date: copy examples/target/audit-events.md over it")
                .isEqualTo(expected);
    }

    @Test
    void everyCatalogueOfTheLibraryIsListed() throws IOException {
        Map<String, String> declared = new HashMap<>();
        for (String module : CATALOGUES.keySet()) {
            try (Stream<Path> files = Files.walk(ROOT.resolve(module).resolve("src/main/java"))) {
                for (Path file : files.filter(f -> f.toString().endsWith(".java")).toList()) {
                    Matcher matcher = DECLARATION.matcher(Files.readString(file, StandardCharsets.UTF_8));
                    while (matcher.find()) {
                        declared.put(matcher.group(1), module);
                    }
                }
            }
        }
        Map<String, String> listed = new HashMap<>();
        CATALOGUES.forEach((module, entries) -> listed.put(enumName(entries), module));
        assertThat(listed).isEqualTo(declared);
        try (Stream<Path> modules = Files.list(ROOT)) {
            List<String> others = modules.filter(dir -> Files.isDirectory(dir.resolve("src/main/java")))
                    .map(dir -> dir.getFileName().toString())
                    .filter(name -> !CATALOGUES.containsKey(name) && !name.equals("examples")).toList();
            for (String module : others) {
                try (Stream<Path> files = Files.walk(ROOT.resolve(module).resolve("src/main/java"))) {
                    assertThat(files.filter(f -> f.toString().endsWith(".java")).filter(f -> {
                        try {
                            return DECLARATION.matcher(Files.readString(f, StandardCharsets.UTF_8)).find();
                        } catch (IOException e) {
                            throw new java.io.UncheckedIOException(e);
                        }
                    }).toList()).as("a catalogue in %s: add it to CATALOGUES", module).isEmpty();
                }
            }
        }
    }

    @Test
    void eachActionAndOutcomeIsOneEntryAndEachMeterHasOneSetOfTagsTheirEntriesCarry() {
        Map<String, AuditAction> byKey = new HashMap<>();
        Map<String, List<String>> tagsByMeter = new HashMap<>();
        Map<String, List<String>> fieldsByMeter = new HashMap<>();
        List<String> problems = new ArrayList<>();
        CATALOGUES.values().stream().flatMap(List::stream).forEach(entry -> {
            AuditAction.Definition definition = entry.definition();
            AuditAction clash = byKey.putIfAbsent(entry.action() + " " + entry.outcome(), entry);
            if (clash != null) {
                problems.add(entry + " and " + clash + " are both " + entry.action() + " " + entry.outcome());
            }
            fieldsByMeter.computeIfAbsent(definition.meter(), meter -> new ArrayList<>()).addAll(definition.fields());
            List<String> tags = tagsByMeter.putIfAbsent(definition.meter(), definition.tags());
            if (tags != null && !tags.equals(definition.tags())) {
                problems.add(definition.meter() + ": " + entry + " tags " + definition.tags() + ", another entry "
                        + tags + " (a Prometheus meter has one set of labels)");
            }
        });
        tagsByMeter.forEach((meter, tags) -> tags.stream().filter(tag -> !fieldsByMeter.get(meter).contains(tag))
                .forEach(tag -> problems.add(meter + ": tag " + tag + " is a field of none of its entries")));
        assertThat(problems).isEmpty();
    }

    private static String render() {
        StringBuilder out = new StringBuilder();
        out.append("""
                # Audit events

                Every decision of the library leaves one audit event. This is the whole catalogue, for
                operators and SIEM rules. It is generated from the catalogue enums by
                `AuditCatalogueDocTest` (examples), which fails when this file differs: do not edit it by
                hand.

                - **Action** and **Outcome** (`ALLOWED`, `REFUSED`, `INFO`, `WARNING`) identify an event;
                  they are the SLF4J key-value pairs `action` and `outcome` on the logger
                  `io.settler.zerotrust.audit`.
                - **Level** is the SLF4J level it is logged at. `DEBUG` entries are routine successes on
                  hot paths, built only when a log wants them (`AuditLog.records`), e.g. a meter registry.
                - **Fields** are the other key-value pairs, in order; `reason` values are the `Reason`
                  enum names of the module's exceptions, `detail` says what to fix. Values never hold key
                  material, passwords or whole tokens, and are cleaned of control characters.
                - **Meter** is the counter `zerotrust-micrometer` increments, tagged `action`, `outcome`
                  and the **Tags** fields (low-cardinality by design); a timed event also goes to the
                  timer named the meter plus `.duration`.
                """);
        CATALOGUES.forEach((module, entries) -> {
            out.append("\n## ").append(module).append(" (`").append(enumName(entries)).append("`)\n\n")
                    .append("| Action | Outcome | Level | Meter | Tags | Fields | When, and what to do |\n")
                    .append("|---|---|---|---|---|---|---|\n");
            for (AuditAction entry : entries) {
                AuditAction.Definition d = entry.definition();
                out.append("| `").append(d.action()).append("` | ").append(d.outcome()).append(" | ")
                        .append(d.level()).append(" | `").append(d.meter()).append("` | ")
                        .append(names(d.tags())).append(" | ").append(names(d.fields())).append(" | ")
                        .append(d.description().replace("|", "\\|")).append(" |\n");
            }
        });
        return out.toString();
    }

    private static String names(List<String> names) {
        return names.isEmpty() ? "" : names.stream().map(name -> "`" + name + "`").collect(Collectors.joining(", "));
    }

    private static String enumName(List<? extends AuditAction> entries) {
        return ((Enum<?>) entries.get(0)).getDeclaringClass().getSimpleName();
    }
}
