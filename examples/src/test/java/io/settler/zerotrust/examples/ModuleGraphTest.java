package io.settler.zerotrust.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;

/**
 * The module graph CONTRIBUTING.md draws is the one the poms declare, and the one each pom's
 * enforcer {@code module-graph} execution allows: a new edge must change all three, or the build
 * fails here or in the enforcer.
 */
class ModuleGraphTest {

    private static final Path ROOT = Path.of("..");
    private static final String GROUP = "io.settler.zerotrust";
    private static final String PREFIX = "zerotrust-";
    private static final Pattern BLOCK = Pattern.compile("(?s)## How the modules fit\\n.*?```\\n(.*?)```");
    private static final Pattern EDGE = Pattern.compile("([a-z-]+)\\s+->\\s+(.*)");
    private static final Pattern MODULE = Pattern.compile("([a-z-]+)\\s.*|[a-z-]+");

    @Test
    void contributingDrawsTheEdgesThePomsDeclareAndTheEnforcerAllows() throws Exception {
        Map<String, Set<String>> documented = documentedGraph();
        assertThat(documented.keySet()).as("the modules of the root pom.xml, each drawn once")
                .containsExactlyInAnyOrderElementsOf(children(parse(ROOT.resolve("pom.xml")), "modules", "module"));
        for (Map.Entry<String, Set<String>> module : documented.entrySet()) {
            Document pom = parse(ROOT.resolve(module.getKey()).resolve("pom.xml"));
            assertThat(ourDependencies(pom, false)).as("%s/pom.xml's compile dependencies on our modules",
                    module.getKey()).isEqualTo(module.getValue());
            if (module.getKey().equals("bom")) {
                continue;
            }
            assertThat(allowed(pom, "compile")).as("%s/pom.xml's enforcer module-graph allow-list (compile)",
                    module.getKey()).isEqualTo(module.getValue());
            assertThat(allowed(pom, "test")).as("%s/pom.xml's enforcer module-graph allow-list (test)",
                    module.getKey()).isEqualTo(ourDependencies(pom, true));
        }
    }

    @Test
    void theDrawingIsReadAsItLooks() {
        Map<String, Set<String>> graph = documentedGraph();
        assertThat(graph.get("core")).isEmpty();
        assertThat(graph.get("redis-tls")).containsExactlyInAnyOrder("core", "service-token");
        assertThat(graph.get("queue")).containsExactlyInAnyOrder("core", "service-token", "redis-tls");
    }

    /** Module -> the modules it depends on, from the block under "How the modules fit". */
    static Map<String, Set<String>> documentedGraph() {
        String contributing;
        try {
            contributing = Files.readString(ROOT.resolve("CONTRIBUTING.md"));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        Matcher block = BLOCK.matcher(contributing);
        assertThat(block.find()).as("CONTRIBUTING.md has the module block under 'How the modules fit'").isTrue();
        Map<String, Set<String>> graph = new LinkedHashMap<>();
        for (String line : block.group(1).lines().toList()) {
            if (line.isBlank() || Character.isWhitespace(line.charAt(0))) {
                continue; // a continuation line
            }
            Matcher edge = EDGE.matcher(line);
            Set<String> dependencies = new TreeSet<>();
            String module;
            if (edge.matches()) {
                module = edge.group(1);
                for (String name : edge.group(2).split("\\s{2,}")[0].split(",")) {
                    dependencies.add(name.strip());
                }
            } else {
                Matcher alone = MODULE.matcher(line);
                assertThat(alone.matches()).as("a module line: %s", line).isTrue();
                module = alone.group(1) != null ? alone.group(1) : line.strip();
            }
            assertThat(graph.put(module, dependencies)).as("%s drawn twice", module).isNull();
        }
        return graph;
    }

    /** Our modules among the pom's own dependencies: of test scope, or of compile and runtime scope. */
    private static Set<String> ourDependencies(Document pom, boolean test) {
        Set<String> modules = new TreeSet<>();
        Element dependencies = child(pom.getDocumentElement(), "dependencies");
        if (dependencies == null) {
            return modules;
        }
        for (Element dependency : elements(dependencies, "dependency")) {
            String scope = text(dependency, "scope", "compile");
            boolean isTest = scope.equals("test");
            if (text(dependency, "groupId", "").equals(GROUP) && isTest == test
                    && (isTest || scope.equals("compile") || scope.equals("runtime"))) {
                modules.add(text(dependency, "artifactId", "").substring(PREFIX.length()));
            }
        }
        return modules;
    }

    /** The modules the pom's enforcer module-graph execution includes in {@code scope}. */
    private static Set<String> allowed(Document pom, String scope) {
        Set<String> modules = new TreeSet<>();
        Element execution = null;
        for (Element plugin : elements(child(child(pom.getDocumentElement(), "build"), "plugins"), "plugin")) {
            if (text(plugin, "artifactId", "").equals("maven-enforcer-plugin")) {
                for (Element candidate : elements(child(plugin, "executions"), "execution")) {
                    if (text(candidate, "id", "").equals("module-graph")) {
                        execution = candidate;
                    }
                }
            }
        }
        assertThat(execution).as("an enforcer execution 'module-graph'").isNotNull();
        Element banned = child(child(child(execution, "configuration"), "rules"), "bannedDependencies");
        assertThat(children(banned, "excludes", "exclude")).as("every one of our modules banned first")
                .containsExactly(GROUP);
        assertThat(text(banned, "searchTransitive", "")).isEqualTo("false");
        for (String include : children(banned, "includes", "include")) {
            String[] parts = include.split(":");
            assertThat(parts).as(include).hasSize(5);
            assertThat(parts[0]).isEqualTo(GROUP);
            if (parts[4].equals(scope)) {
                modules.add(parts[1].substring(PREFIX.length()));
            }
        }
        return modules;
    }

    private static Document parse(Path file) throws Exception {
        DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
        factory.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
        factory.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
        return factory.newDocumentBuilder().parse(file.toFile());
    }

    private static List<String> children(Node parent, String list, String item) {
        Element container = parent instanceof Document document ? child(document.getDocumentElement(), list)
                : child((Element) parent, list);
        return container == null ? List.of() : elements(container, item).stream().map(Node::getTextContent)
                .map(String::strip).toList();
    }

    private static Element child(Element parent, String name) {
        List<Element> found = parent == null ? List.of() : elements(parent, name);
        return found.isEmpty() ? null : found.get(0);
    }

    /** The direct child elements named {@code name}. */
    private static List<Element> elements(Element parent, String name) {
        List<Element> found = new ArrayList<>();
        if (parent == null) {
            return found;
        }
        for (Node node = parent.getFirstChild(); node != null; node = node.getNextSibling()) {
            if (node instanceof Element element && element.getTagName().equals(name)) {
                found.add(element);
            }
        }
        return found;
    }

    private static String text(Element parent, String name, String otherwise) {
        Element found = child(parent, name);
        return found == null ? otherwise : found.getTextContent().strip();
    }
}
