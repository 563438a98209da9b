package io.settler.zerotrust.spring;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;

/**
 * Runs after the unit tests (failsafe) and reads everything the Boot applications logged, Spring,
 * Tomcat and the audit events of every refused request included: no line may hold a token.
 */
@Order(Integer.MAX_VALUE) // last also when a -Dtest pattern has surefire run it with the unit tests
class NoTokensInLogsIT {

    private static final Path LOG = Path.of("target/test-logs/all.log");
    /** A compact JWS: base64url of '{"' (eyJ) for the header, a dot, the same for the claims. */
    private static final Pattern TOKEN = Pattern.compile("eyJ[A-Za-z0-9_-]{8,}\\.eyJ");

    @Test
    void theSuiteLoggedNoToken() throws Exception {
        assertThat(LOG).exists();
        List<String> lines = Files.readAllLines(LOG);
        assertThat(lines).as("the refusals were logged").anyMatch(line -> line.contains("spring.request.refused"));
        assertThat(lines.stream().filter(line -> TOKEN.matcher(line).find()).limit(5).toList()).isEmpty();
    }
}
