package io.settler.zerotrust.token;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class VerifiedTokenCacheTest {

    @Test
    void entriesExpireWithTheirToken() {
        ExpiringMap<String, String> map = new ExpiringMap<>(10);
        assertThat(map.put("token", "verified", 100, 50)).isTrue();
        assertThat(map.get("token", 99)).isEqualTo("verified");
        assertThat(map.get("token", 100)).isNull();
        assertThat(map.size()).isZero();
    }

    @Test
    void fullMapDropsExpiredEntriesButNeverLiveOnes() {
        ExpiringMap<String, String> map = new ExpiringMap<>(2);
        map.put("a", "1", 10, 0);
        map.put("b", "2", 100, 0);
        assertThat(map.put("c", "3", 100, 5)).as("full of live entries").isFalse();
        assertThat(map.put("c", "3", 100, 20)).as("a has expired and is purged").isTrue();
        assertThat(map.get("b", 20)).isEqualTo("2");
    }

    @Test
    void floodOfNewTokensCannotEvictLiveEntries() {
        ExpiringMap<String, String> map = new ExpiringMap<>(1);
        map.put("live", "x", 1_000, 0);
        for (int i = 0; i < 10_000; i++) {
            assertThat(map.put("flood-" + i, "y", 1_000, 5)).isFalse();
        }
        assertThat(map.size()).isEqualTo(1);
    }

    @Test
    void keyedOnTheExactTokenText() {
        ExpiringMap<String, String> map = new ExpiringMap<>(10);
        map.put("abc.def.ghi", "verified", 100, 0);
        assertThat(map.get("abc.def.ghI", 1)).isNull();
        assertThat(map.get("abc.def.ghi ", 1)).isNull();
    }
}
