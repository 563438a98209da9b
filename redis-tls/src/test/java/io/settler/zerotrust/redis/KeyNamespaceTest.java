package io.settler.zerotrust.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class KeyNamespaceTest {

    @Test
    void prefixesKeysWithTheService() {
        KeyNamespace billing = KeyNamespace.of("billing");
        assertThat(billing.key("invoice", "42")).isEqualTo("billing:invoice:42");
        assertThat(billing.aclPattern()).isEqualTo("~billing:*");
        assertThat(billing.owns("billing:invoice:42")).isTrue();
        assertThat(billing.owns("billingx:1")).isFalse();
    }

    @Test
    void clusteredNamespaceKeepsEveryKeyInTheServiceSlot() {
        KeyNamespace jobs = KeyNamespace.clustered("jobs");
        assertThat(jobs.key("stream", "api")).isEqualTo("{jobs}:stream:api");
        assertThat(jobs.aclPattern()).isEqualTo("~{jobs}:*");
    }

    @Test
    void partCannotAddASeparatorOrHashTagOrGlob() {
        KeyNamespace ns = KeyNamespace.of("api");
        assertThat(ns.key("a:b")).isEqualTo("api:a%3Ab");
        assertThat(ns.key("{other}")).isEqualTo("api:%7Bother%7D");
        assertThat(ns.key("*?[]\\ %")).isEqualTo("api:%2A%3F%5B%5D%5C%20%25");
        assertThat(ns.key("é\n")).isEqualTo("api:%C3%A9%0A");
        assertThat(ns.key("a:b")).isNotEqualTo(ns.key("a", "b"));
        assertThat(ns.key("a%3Ab")).isNotEqualTo(ns.key("a:b"));
    }

    @Test
    void refusesEmptyOrOversizedPartsAndBadServiceNames() {
        KeyNamespace ns = KeyNamespace.of("api");
        assertThatThrownBy(() -> ns.key()).isInstanceOf(RedisTlsException.class);
        assertThatThrownBy(() -> ns.key("")).isInstanceOf(RedisTlsException.class);
        assertThatThrownBy(() -> ns.key("x".repeat(513))).isInstanceOfSatisfying(RedisTlsException.class,
                e -> assertThat(e.reason()).isEqualTo(RedisTlsException.Reason.INVALID_KEY));
        assertThatThrownBy(() -> KeyNamespace.of("Api")).isInstanceOf(RedisTlsException.class);
        assertThatThrownBy(() -> KeyNamespace.of("a:b")).isInstanceOf(RedisTlsException.class);
        assertThatThrownBy(() -> KeyNamespace.clustered("{x}")).isInstanceOf(RedisTlsException.class);
    }
}
