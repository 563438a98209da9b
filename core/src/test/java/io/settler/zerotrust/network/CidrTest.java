package io.settler.zerotrust.network;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class CidrTest {

    @ParameterizedTest
    @CsvSource({
        "10.0.0.0/8, 10.255.1.2, true",
        "10.0.0.0/8, 11.0.0.1, false",
        "192.168.1.128/25, 192.168.1.200, true",
        "192.168.1.128/25, 192.168.1.127, false",
        "127.0.0.1, 127.0.0.1, true",
        "127.0.0.1, 127.0.0.2, false",
        "0.0.0.0/0, 8.8.8.8, true",
        "2001:db8::/32, 2001:db8:ffff::1, true",
        "2001:db8::/32, 2001:db9::1, false",
        "::1, ::1, true",
        "::/0, 10.0.0.1, false",
        "10.0.0.0/8, ::ffff:10.0.0.1, true",
    })
    void containsExactlyTheAddressesOfTheNetwork(String cidr, String address, boolean expected) {
        assertThat(Cidr.parse(cidr).contains(IpAddressLiteral.parse(address))).isEqualTo(expected);
    }

    @Test
    void refusesHostBitsAndSuggestsTheNetwork() {
        assertThatThrownBy(() -> Cidr.parse("10.0.0.1/8"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("10.0.0.0/8");
    }

    @ParameterizedTest
    @ValueSource(strings = {"10.0.0.0/33", "::/129", "10.0.0.0/-1", "10.0.0.0/", "10.0.0.0/8/8", "localhost/32",
        "example.org", "10.0.0", "010.0.0.1", "1.2.3.256", "", "fe80::1%eth0"})
    void refusesMalformedNetworks(String text) {
        assertThatThrownBy(() -> Cidr.parse(text)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void neverResolvesHostNames() {
        assertThatThrownBy(() -> IpAddressLiteral.parse("localhost"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("host names are not accepted");
    }
}
