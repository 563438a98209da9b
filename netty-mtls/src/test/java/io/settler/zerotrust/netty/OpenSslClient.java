package io.settler.zerotrust.netty;

import io.settler.zerotrust.pki.IssuedCertificate;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The real {@code openssl s_client}, as an attacker outside our code would use it: TLS 1.3 to
 * 127.0.0.1, trusting our CA, with or without a client certificate, saving the session it got
 * ({@code -sess_out}) or offering a saved one ({@code -sess_in}).
 */
final class OpenSslClient {

    /** What one run printed. */
    record Run(String output) {
        /** Whether the handshake resumed the offered session ({@code Reused}). */
        boolean reused() {
            return output.contains("Reused, TLSv1.");
        }

        /** Whether the handshake was a full one ({@code New}). */
        boolean fullHandshake() {
            return output.contains("New, TLSv1.");
        }

        /** How many NewSessionTicket messages the server sent. */
        long ticketsReceived() {
            return output.lines().filter(line -> line.contains("Post-Handshake New Session Ticket arrived")).count();
        }
    }

    private final Path directory;

    OpenSslClient(Path directory) {
        this.directory = directory;
    }

    /**
     * Connects, sends {@code request}, reads until the server closes.
     *
     * @param protocol {@code -tls1_3} or {@code -tls1_2}
     * @param presented the certificate to present, or empty for none
     * @param sessionOut where to save the session, if anywhere
     * @param sessionIn a saved session to offer, if any
     */
    Run connect(int port, String protocol, Optional<IssuedCertificate> presented, Optional<Path> sessionOut,
                Optional<Path> sessionIn, String request) throws IOException, InterruptedException {
        Path ca = Files.writeString(directory.resolve("trusted-ca.crt"), TestPki.API.caBundlePem());
        List<String> command = new ArrayList<>(List.of("openssl", "s_client", "-connect", "127.0.0.1:" + port,
                protocol, "-CAfile", ca.toString(), "-ign_eof"));
        if (presented.isPresent()) {
            IssuedCertificate certificate = presented.get();
            String name = certificate.identity().serviceName();
            certificate.writePem(directory, name);
            command.addAll(List.of("-cert", directory.resolve(name + ".crt").toString(),
                    "-key", directory.resolve(name + ".key").toString()));
        }
        sessionOut.ifPresent(path -> command.addAll(List.of("-sess_out", path.toString())));
        sessionIn.ifPresent(path -> command.addAll(List.of("-sess_in", path.toString())));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        CompletableFuture<String> output = CompletableFuture.supplyAsync(() -> read(process.getInputStream()));
        try (OutputStream in = process.getOutputStream()) {
            in.write(request.getBytes(StandardCharsets.US_ASCII));
        } catch (IOException exitedEarly) {
            // It gave up before reading (e.g. no session file to read); what it printed says why.
        }
        if (!process.waitFor(20, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("openssl s_client did not finish within 20 s: " + command);
        }
        return new Run(output.join());
    }

    private static String read(InputStream in) {
        try (in) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "read failed: " + e;
        }
    }
}
