package io.settler.zerotrust.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Keeps {@code SECURITY.md} and {@code RELIABILITY.md} true: every test they name as the attack on an
 * invariant, or as the fault a guarantee survives, exists. A row's
 * {@code `Class#method`} names a method of that test class, and a later {@code `#method`} in the same
 * cell a method of the class last named; a bare {@code `SomeTest`} names a whole test class. (A method
 * is any method the class declares, which is what a reader of the table can look up.)
 */
class SecurityMdTest {

    private static final Pattern NAME = Pattern.compile("`([A-Z][a-z]\\w*(?:Test|IT))?(?:#(\\w+))?`");
    private static final Pattern METHOD = Pattern.compile("\\b(?:void|Stream<[\\w<>?, ]+>) (\\w+)\\(");

    @Test
    void everyTestNamedInSecurityMdExists() throws IOException {
        assertEveryNamedTestExists("SECURITY.md", 50);
    }

    @Test
    void everyTestNamedInReliabilityMdExists() throws IOException {
        assertEveryNamedTestExists("RELIABILITY.md", 15);
    }

    private static void assertEveryNamedTestExists(String document, int atLeast) throws IOException {
        Map<String, Set<String>> tests = testMethodsByClass(Path.of(".."));
        List<String> missing = new ArrayList<>();
        int named = 0;
        for (String line : Files.readAllLines(Path.of("..", document))) {
            for (String cell : line.split("\\|")) {
                String currentClass = null;
                Matcher name = NAME.matcher(cell);
                while (name.find()) {
                    if (name.group(1) == null && name.group(2) == null) {
                        continue;
                    }
                    if (name.group(1) != null) {
                        currentClass = name.group(1);
                    }
                    named++;
                    if (currentClass == null || !tests.containsKey(currentClass)) {
                        missing.add(name.group() + " (no test class " + currentClass + ")");
                    } else if (name.group(2) != null && !tests.get(currentClass).contains(name.group(2))) {
                        missing.add(currentClass + "#" + name.group(2));
                    }
                }
            }
        }
        assertThat(named).as("tests named in " + document).isGreaterThan(atLeast);
        assertThat(missing).as("tests " + document + " names that do not exist").isEmpty();
    }

    /** Test classes of every module of the repository, by simple name, with their test methods. */
    private static Map<String, Set<String>> testMethodsByClass(Path root) throws IOException {
        try (Stream<Path> files = Files.walk(root)) {
            return files.filter(file -> file.toString().replace('\\', '/').contains("/src/test/"))
                    .filter(file -> file.getFileName().toString().matches("\\w+(Test|IT)\\.java"))
                    .collect(Collectors.toMap(
                            file -> file.getFileName().toString().replace(".java", ""),
                            SecurityMdTest::testMethods,
                            (a, b) -> Stream.concat(a.stream(), b.stream()).collect(Collectors.toSet())));
        }
    }

    private static Set<String> testMethods(Path file) {
        try {
            Matcher method = METHOD.matcher(Files.readString(file));
            Set<String> names = new HashSet<>();
            while (method.find()) {
                names.add(method.group(1));
            }
            return names;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
