package io.settler.zerotrust.token;

import static org.assertj.core.api.Assertions.assertThat;

import io.settler.zerotrust.pki.DevCertificateAuthority;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ThumbprintCacheTest {

    @Test
    void givesEachCertificateItsOwnThumbprintEvenWhenTheCacheOverflows() {
        DevCertificateAuthority ca = DevCertificateAuthority.create("example.org");
        List<X509Certificate> certificates = new ArrayList<>();
        for (int i = 0; i < ThumbprintCache.SLOTS * 2; i++) {
            certificates.add(ca.leaf("svc-" + i).issue().certificate());
        }
        ThumbprintCache cache = new ThumbprintCache();
        for (int round = 0; round < 3; round++) {
            for (X509Certificate certificate : certificates) {
                assertThat(cache.thumbprint(certificate)).isEqualTo(ServiceTokens.thumbprint(certificate));
            }
        }
    }

    @Test
    void returnsTheSameStringForTheSameObject() {
        X509Certificate certificate = DevCertificateAuthority.create("example.org").leaf("svc").issue().certificate();
        ThumbprintCache cache = new ThumbprintCache();
        assertThat(cache.thumbprint(certificate)).isSameAs(cache.thumbprint(certificate));
    }
}
