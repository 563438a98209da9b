package io.settler.zerotrust.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.springframework.mock.web.MockHttpServletRequest;
import org.springframework.security.web.firewall.FirewalledRequest;
import org.springframework.security.web.firewall.RequestRejectedException;

class HeaderCharactersTest {

    /** What StrictHttpFirewall matches header names and values against by default. */
    private static final Pattern STRICT_DEFAULT = Pattern.compile("[\\p{IsAssigned}&&[^\\p{IsControl}]]*");

    @Test
    void agreesWithTheFirewallsPatternOnEveryCodePoint() {
        List<Integer> disagreements = new ArrayList<>();
        int refused = 0;
        for (int codePoint = 0; codePoint <= Character.MAX_CODE_POINT; codePoint++) {
            String text = "a" + Character.toString(codePoint) + "b";
            boolean allowed = HeaderCharacters.allowed(text);
            if (allowed != STRICT_DEFAULT.matcher(text).matches()) {
                disagreements.add(codePoint);
            }
            refused += allowed ? 0 : 1;
        }
        assertThat(disagreements).isEmpty();
        assertThat(refused).as("control and unassigned code points refused").isGreaterThan(800_000);
    }

    @Test
    void agreesWithTheFirewallsPatternOnRandomTextAndLoneSurrogates() {
        Random random = new Random(19);
        for (int round = 0; round < 20_000; round++) {
            StringBuilder text = new StringBuilder();
            for (int i = random.nextInt(12); i > 0; i--) {
                text.append(random.nextInt(4) == 0 ? (char) random.nextInt(Character.MAX_VALUE + 1)
                        : (char) (' ' + random.nextInt(95)));
            }
            String value = text.toString();
            assertThat(HeaderCharacters.allowed(value)).as("%s", value.chars().boxed().toList())
                    .isEqualTo(STRICT_DEFAULT.matcher(value).matches());
        }
        assertThat(HeaderCharacters.allowed("\uD83D\uDE00")).isTrue(); // a pair: one assigned code point
        assertThat(HeaderCharacters.allowed("")).isTrue();
    }

    @Test
    void theFirewallRefusesControlCharactersInHeaderValuesAndNamesAndAdmitsAToken() {
        MockHttpServletRequest request = new MockHttpServletRequest("GET", "/orders");
        request.addHeader("Authorization", "Bearer eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhcGkifQ.c2ln-_");
        request.addHeader("X-Bell", "ring\u0007");
        request.addHeader("X-Next-Line", "one\u0085two");
        request.addHeader("X-Bad\u0000Name", "value");
        FirewalledRequest checked = HeaderCharacters.firewall().getFirewalledRequest(request);

        assertThat(checked.getHeader("Authorization")).startsWith("Bearer ");
        assertThatThrownBy(() -> checked.getHeader("X-Bell")).isInstanceOf(RequestRejectedException.class);
        assertThatThrownBy(() -> checked.getHeader("X-Next-Line")).isInstanceOf(RequestRejectedException.class);
        assertThatThrownBy(() -> checked.getHeaderNames().asIterator().forEachRemaining(name -> { }))
                .isInstanceOf(RequestRejectedException.class);
    }
}
