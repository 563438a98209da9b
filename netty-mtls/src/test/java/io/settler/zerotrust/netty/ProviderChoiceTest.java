package io.settler.zerotrust.netty;

import static io.settler.zerotrust.netty.TestPki.field;
import static org.assertj.core.api.Assertions.assertThat;

import io.settler.zerotrust.audit.AuditEvent;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Which TLS provider a context got, and why, as its {@code tls.netty} audit event says: the provider in
 * use, the one asked for, and, when {@code AUTO} fell back to the JDK, that OpenSSL did not load and the
 * class of the cause. Real handshakes on 127.0.0.1 with the provider chosen.
 */
class ProviderChoiceTest {

    private final TestPki pki = new TestPki();

    @Test
    void autoTakesOpenSslWhenItLoadsAndAuditsNoFallback() throws Exception {
        assertThat(NettyMtls.openSslAvailable()).as("netty-tcnative is on this module's test class path").isTrue();
        NettyMtls server = pki.server(NettyMtls.Provider.AUTO);
        assertThat(server.provider()).isEqualTo(NettyMtls.Provider.OPENSSL);
        assertThat(handshakeStatus(server)).isEqualTo(200);
        AuditEvent event = pki.awaitEvent("tls.netty", field("role", "SERVER"));
        assertThat(event.fields()).containsEntry("provider", "OPENSSL").containsEntry("provider_requested", "AUTO")
                .doesNotContainKeys("provider_fallback", "openssl_unavailable_cause");
    }

    @Test
    void jdkAskedForIsNoFallback() throws Exception {
        NettyMtls server = pki.server(NettyMtls.Provider.JDK);
        assertThat(handshakeStatus(server)).isEqualTo(200);
        AuditEvent event = pki.awaitEvent("tls.netty", field("role", "SERVER"));
        assertThat(event.fields()).containsEntry("provider", "JDK").containsEntry("provider_requested", "JDK")
                .doesNotContainKeys("provider_fallback", "openssl_unavailable_cause");
    }

    @Test
    void autoFallsBackToTheJdkWhenOpenSslDoesNotLoadAndAuditsWhy() throws Exception {
        // Netty decides once per JVM whether OpenSSL loads: a second JVM, with OpenSSL switched off the
        // way Netty documents (its unavailability cause is then an UnsupportedOperationException).
        Map<String, String> probe = runFallbackProbe("-Dio.netty.handler.ssl.noOpenSsl=true");
        assertThat(probe).containsEntry("provider()", "JDK").containsEntry("status", "200")
                .containsEntry("field.provider", "JDK")
                .containsEntry("field.provider_requested", "AUTO")
                .containsEntry("field.provider_fallback", "openssl_unavailable")
                .containsEntry("field.openssl_unavailable_cause", UnsupportedOperationException.class.getName());
    }

    /** A GET through {@code server} from a JDK client with an allowed certificate; the HTTP status. */
    private int handshakeStatus(NettyMtls server) {
        try (TestServer running = TestServer.start(server);
             MtlsHttpClient http = MtlsHttpClient.builder(pki.client(NettyMtls.Provider.JDK, TestPki.WORKER)).build()) {
            return http.get("127.0.0.1", running.port(), "/").join().status();
        }
    }

    private static Map<String, String> runFallbackProbe(String... jvmOptions) throws Exception {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(List.of(jvmOptions));
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), FallbackProbe.class.getName()));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        CompletableFuture<String> output = CompletableFuture.supplyAsync(() -> read(process.getInputStream()));
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("the probe JVM did not finish within 60 s");
        }
        String printed = output.join();
        assertThat(process.exitValue()).as("probe exit status; it printed:%n%s", printed).isZero();
        Map<String, String> lines = new LinkedHashMap<>();
        printed.lines().filter(line -> line.startsWith(FallbackProbe.PREFIX))
                .map(line -> line.substring(FallbackProbe.PREFIX.length()).split("=", 2))
                .forEach(nameValue -> lines.put(nameValue[0], nameValue[1]));
        return lines;
    }

    private static String read(InputStream in) {
        try (in) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Run in its own JVM: an AUTO server context, one request through it, and what was audited. */
    static final class FallbackProbe {

        static final String PREFIX = "probe: ";

        public static void main(String[] args) throws Exception {
            TestPki pki = new TestPki();
            NettyMtls server = pki.server(NettyMtls.Provider.AUTO);
            System.out.println(PREFIX + "provider()=" + server.provider());
            try (TestServer running = TestServer.start(server);
                 MtlsHttpClient http = MtlsHttpClient.builder(pki.client(NettyMtls.Provider.JDK, TestPki.WORKER))
                         .build()) {
                System.out.println(PREFIX + "status=" + http.get("127.0.0.1", running.port(), "/").join().status());
            }
            pki.awaitEvent("tls.netty", field("role", "SERVER")).fields()
                    .forEach((name, value) -> System.out.println(PREFIX + "field." + name + "=" + value));
        }
    }
}
