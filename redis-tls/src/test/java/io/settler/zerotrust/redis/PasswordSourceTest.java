package io.settler.zerotrust.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PasswordSourceTest {

    @TempDir
    Path dir;

    @Test
    void readsFileWithoutTrailingLineBreakOnEveryCall() throws Exception {
        Path file = dir.resolve("password");
        Files.writeString(file, "first\r\n");
        PasswordSource source = PasswordSource.fromFile(file);
        assertThat(source.password()).containsExactly("first".toCharArray());
        Files.writeString(file, "second");
        assertThat(source.password()).containsExactly("second".toCharArray());
        assertThat(source.toString()).contains(file.toString()).doesNotContain("second");
    }

    @Test
    void refusesEmptyMissingAndOversizedFiles() throws Exception {
        Path empty = Files.writeString(dir.resolve("empty"), "\n");
        assertThatThrownBy(() -> PasswordSource.fromFile(empty).password())
                .isInstanceOfSatisfying(RedisTlsException.class,
                        e -> assertThat(e.reason()).isEqualTo(RedisTlsException.Reason.PASSWORD_MISSING));
        assertThatThrownBy(() -> PasswordSource.fromFile(dir.resolve("absent")).password())
                .isInstanceOfSatisfying(RedisTlsException.class,
                        e -> assertThat(e.reason()).isEqualTo(RedisTlsException.Reason.PASSWORD_UNREADABLE));
        Path large = Files.writeString(dir.resolve("large"), "x".repeat(5000));
        assertThatThrownBy(() -> PasswordSource.fromFile(large).password())
                .isInstanceOfSatisfying(RedisTlsException.class,
                        e -> assertThat(e.reason()).isEqualTo(RedisTlsException.Reason.PASSWORD_UNREADABLE));
    }

    @Test
    void readsEnvironmentVariableOnEveryCall() {
        Map<String, String> environment = new java.util.concurrent.ConcurrentHashMap<>(Map.of("REDIS_PASSWORD", "one"));
        PasswordSource source = new EnvironmentPasswordSource("REDIS_PASSWORD", environment::get);
        assertThat(source.password()).containsExactly("one".toCharArray());
        environment.put("REDIS_PASSWORD", "two");
        assertThat(source.password()).containsExactly("two".toCharArray());
        assertThat(source.toString()).isEqualTo("PasswordSource.fromEnvironment[REDIS_PASSWORD]");
        environment.remove("REDIS_PASSWORD");
        assertThatThrownBy(source::password).isInstanceOfSatisfying(RedisTlsException.class,
                e -> assertThat(e.reason()).isEqualTo(RedisTlsException.Reason.PASSWORD_MISSING));
        assertThatThrownBy(() -> PasswordSource.fromEnvironment("NOT A NAME"))
                .isInstanceOf(RedisTlsException.class);
    }
}
