package io.settler.zerotrust.token;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class BearerTokenTest {

    @Test
    void acceptsOnlyOneStrictBearerCredential() {
        assertThat(BearerToken.fromAuthorization("Bearer a.b-c_d~e+f/g==")).contains("a.b-c_d~e+f/g==");
        assertThat(BearerToken.fromAuthorization("BEARER abc")).contains("abc");
        for (String refused : List.of("", "Bearer", "Bearer ", "Bearer  abc", "Bearer abc ", "Bearer\tabc",
                "Bearer abc,def", "Bearer a=b", "Bearer ==", "Bearerabc", "Basic abc", "Bearer ab\u00e9",
                "Bearer abc def")) {
            assertThat(BearerToken.fromAuthorization(refused)).as(refused).isEmpty();
        }
    }
}
