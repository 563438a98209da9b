package io.settler.zerotrust.token;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * Runs after the unit tests (failsafe) and reads everything they logged, including thousands of
 * rejections from the fuzz test: no line may hold a token, a token segment or a long base64 run.
 */
class NoTokensInLogsIT {

    private static final Path LOG = Path.of("target/test-logs/all.log");
    /** A JOSE header segment starts with base64url of '{"', which is "eyJ". */
    private static final Pattern TOKEN = Pattern.compile("eyJ[A-Za-z0-9_-]{8,}");
    private static final Pattern BASE64_RUN = Pattern.compile("[A-Za-z0-9+/_-]{43,}");

    @Test
    void theSuiteLoggedNoTokenOrKeyMaterial() throws Exception {
        assertThat(LOG).exists();
        List<String> lines = Files.readAllLines(LOG);
        assertThat(lines.stream().filter(line -> line.contains("token.rejected")).count())
                .as("the fuzz test's rejections were logged").isGreaterThan(1000);

        List<String> suspicious = lines.stream()
                .filter(line -> TOKEN.matcher(line).find() || hasBase64Run(line))
                .limit(20)
                .collect(Collectors.toList());
        assertThat(suspicious).isEmpty();
    }

    /** Any 43 or more base64url characters (a 256-bit value) that are not a lower-case hex fingerprint. */
    private static boolean hasBase64Run(String line) {
        var matcher = BASE64_RUN.matcher(line);
        while (matcher.find()) {
            if (!matcher.group().matches("[0-9a-f]+")) {
                return true;
            }
        }
        return false;
    }
}
