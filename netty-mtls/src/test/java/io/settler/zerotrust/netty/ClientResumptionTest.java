package io.settler.zerotrust.netty;

import static io.settler.zerotrust.netty.TestPki.field;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.settler.zerotrust.credentials.TrustBundle;
import io.settler.zerotrust.pki.DevCertificateAuthority;
import io.settler.zerotrust.tls.MtlsContext;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Our clients never resume a session, even with a server that offers it (plain Netty on OpenSSL,
 * which issues TLS 1.3 tickets): each connection verifies the server again against the current
 * trust bundle, so what a client reconnects to is still the expected server, by today's trust.
 */
@ParameterizedClass
@EnumSource(value = NettyMtls.Provider.class, names = {"JDK", "OPENSSL"})
class ClientResumptionTest {

    @Parameter
    NettyMtls.Provider provider;

    private final TestPki pki = new TestPki();

    private MtlsHttpClient client(RotatingCredentials credentials) {
        return MtlsHttpClient.builder(NettyMtls.builder(MtlsContext.client(credentials).auditLog(pki.audit).build())
                .provider(provider).auditLog(pki.audit).build()).build();
    }

    @Test
    void verifiesServerAgainOnEveryConnectionThoughItOffersTickets() throws Exception {
        try (TicketIssuingServer server = new TicketIssuingServer(TestPki.API);
             MtlsHttpClient http = client(new RotatingCredentials(TestPki.WORKER))) {
            for (int i = 0; i < 3; i++) {
                MtlsHttpClient.Response response = http.get("127.0.0.1", server.port(), "/").join();
                assertThat(response.status()).isEqualTo(200);
                String page = new String(response.body(), StandardCharsets.UTF_8);
                assertThat(page).as("the server's report on the connection").isEqualTo("New");
            }
            assertThat(pki.audit.events()).filteredOn(event -> event.action().equals("peer.accepted"))
                    .hasSize(3).allMatch(field("role", "server"));
        }
    }

    @Test
    void refusesServerWhoseCaWasRotatedOutInsteadOfResumingItsSession() throws Exception {
        RotatingCredentials credentials = new RotatingCredentials(TestPki.WORKER);
        try (TicketIssuingServer server = new TicketIssuingServer(TestPki.API);
             MtlsHttpClient http = client(credentials)) {
            assertThat(http.get("127.0.0.1", server.port(), "/").join().status()).isEqualTo(200);

            credentials.rotateTrust(TrustBundle.of(List.of(DevCertificateAuthority.create("example.org")
                    .rootCertificate())));
            assertThatThrownBy(() -> http.get("127.0.0.1", server.port(), "/").join())
                    .isInstanceOf(CompletionException.class);
            pki.awaitEvent("peer.refused", field("role", "server"));
        }
    }
}
