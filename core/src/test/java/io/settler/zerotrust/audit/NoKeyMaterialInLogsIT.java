package io.settler.zerotrust.audit;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * Runs after the whole unit-test suite (failsafe, integration-test phase) and reads everything it
 * logged, at every level: no line may hold a long base64 run, which is what any key, certificate
 * or PEM body looks like. (Block names such as "PRIVATE KEY" in an error message are fine.)
 */
class NoKeyMaterialInLogsIT {

    private static final Path LOG = Path.of("target/test-logs/all.log");
    /** 60 characters of base64 are 45 bytes: more than any fingerprint (hex) or identifier we log. */
    private static final Pattern BASE64_RUN = Pattern.compile("[A-Za-z0-9+/]{60,}={0,2}");

    @Test
    void theSuiteLoggedNoKeyMaterial() throws Exception {
        assertThat(LOG).as("the unit tests' log (written by logback-test.xml)").exists();
        List<String> lines = Files.readAllLines(LOG);
        assertThat(lines).as("the unit tests logged something to scan").hasSizeGreaterThan(10);

        List<String> suspicious = lines.stream()
                .filter(NoKeyMaterialInLogsIT::hasBase64Run)
                .limit(20)
                .collect(Collectors.toList());

        assertThat(suspicious).as("log lines that may hold key material").isEmpty();
    }

    private static boolean hasBase64Run(String line) {
        Matcher matcher = BASE64_RUN.matcher(line);
        while (matcher.find()) {
            String run = matcher.group();
            // Hex fingerprints and long plain words are not base64 key material.
            if (!run.matches("[0-9a-fA-F]+") && run.chars().anyMatch(Character::isDigit)
                    && run.chars().anyMatch(Character::isUpperCase) && run.chars().anyMatch(Character::isLowerCase)) {
                return true;
            }
        }
        return false;
    }
}
