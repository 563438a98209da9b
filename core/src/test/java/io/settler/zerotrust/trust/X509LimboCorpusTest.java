package io.settler.zerotrust.trust;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.stream.Collectors;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;

/**
 * Runs every case of the x509-limbo corpus ({@code core/src/test/data/x509-limbo/limbo.json.gz}, part
 * of this repository; provenance and licence in its {@code NOTICE}) through
 * {@link PeerCertificateVerifier}, and the same cases through a JDK baseline ({@link JdkBaseline}),
 * then asserts the goals of the issue on the cases in scope: no false accept at all, and no more
 * false rejects than the JDK.
 *
 * <h2>Scope</h2>
 * A case is in scope when it exercises what this verifier claims: a client verifying a server by a
 * DNS name or IP address, or a server verifying a client, under the TLS defaults (serverAuth or
 * clientAuth, digitalSignature). Out of scope, counted and listed in the summary, never dropped:
 * <ul>
 *   <li>{@code has-crl}: revocation (CRLs) is not implemented;</li>
 *   <li>CLIENT cases about RFC 822 (e-mail) names: this verifier does not match or claim e-mail
 *       name constraints (they are left to the JDK);</li>
 *   <li>SERVER cases without an expected peer name: a client always verifies a server against a name;</li>
 *   <li>cases with key usage or extended key usage requirements other than the TLS defaults;</li>
 *   <li>{@code pedantic-public-suffix-wildcard}: needs the public suffix list, which this verifier
 *       does not embed (it refuses wildcards over fewer than three labels instead);</li>
 *   <li>RFC 5280 cases that conflict with a Web PKI case ({@code conflicts_with},
 *       {@code rfc5280-incompatible-with-webpki}): the two cannot both pass and this verifier
 *       follows the stricter Web PKI profile (EKU required on the leaf, no CA certificate as leaf,
 *       non-critical name constraints honoured);</li>
 *   <li>features this verifier does not implement ({@code pedantic-rfc5280}: an anchor that is
 *       not self-issued must carry an authority key identifier; the verifier does not look at how
 *       an anchor was issued, since it is trusted by configuration);</li>
 *   <li>{@link #PROFILE_EXCLUSIONS} and {@link #CN_MUST_BE_A_SAN}: CA/Browser Forum rules for
 *       public certificates that this verifier deliberately does not impose on private PKIs; each is
 *       named with its reason.</li>
 * </ul>
 * Out-of-scope cases are still run and their outcome shown, for information.
 */
class X509LimboCorpusTest {

    /** Relative to the module directory; never looked for outside the repository. */
    private static final Path CORPUS = Path.of("src", "test", "data", "x509-limbo", "limbo.json.gz");
    private static final int CORPUS_SIZE = 9_780;
    /** The JDK trust manager's false rejects over the whole corpus, per the corpus README. */
    private static final int PUBLISHED_JDK_FALSE_REJECTS = 84;
    /**
     * The in-scope cases this verifier refuses on purpose although the corpus expects success:
     * a leaf that is itself a CA certificate (cA=true, keyCertSign, no EKU), which RFC 5280 allows
     * but this verifier's end-entity profile refuses (see webpki::ca-as-leaf and
     * webpki::eku::ee-without-eku, which expect the refusal).
     */
    private static final Set<String> KNOWN_FALSE_REJECTS = Set.of("pathlen::validation-ignores-pathlen-in-leaf");

    /** Cases of CA/Browser Forum-only rules, with why a private-PKI verifier does not impose them. */
    static final Map<String, String> PROFILE_EXCLUSIONS = Map.of(
            "webpki::eku::ee-critical-eku",
            "CA/B Forum forbids a critical EKU; RFC 5280 allows it and private CAs use it",
            "webpki::eku::root-has-eku",
            "CA/B Forum forbids EKU in roots; for private anchors this verifier requires the anchor's EKU to"
                    + " include the purpose instead");

    private static final LongAdder OURS_NANOS = new LongAdder();
    private static final LongAdder JDK_NANOS = new LongAdder();

    private static final Set<String> SUPPORTED_FEATURES = Set.of(
            "has-policy-constraints", "has-cert-policies", "no-cert-policies", "name-constraint-dn",
            "pedantic-webpki-subscriber-key", "pedantic-webpki-eku", "pedantic-serial-number", "max-chain-depth",
            "denial-of-service");

    /**
     * CA/B Forum BR 7.1.4.3: a leaf's subject CN must repeat one of its SANs. It guards verifiers
     * that fall back to the CN; this one never reads the CN, and private certificates carry a
     * service or role name there (the development CA writes the SPIFFE ID, a URI, as the CN, which
     * PostgreSQL maps to a role), so the rule would refuse them for no gain.
     */
    private static final String CN_MUST_BE_A_SAN = "webpki::cn::";

    @Test
    void limboCorpusHasNoFalseAcceptAndNoMoreFalseRejectsThanTheJdk() throws Exception {
        Path corpus = locateCorpus();
        long start = System.nanoTime();
        List<Map<String, Object>> cases = load(corpus);
        assertThat(cases).as("test cases in %s", corpus).hasSize(CORPUS_SIZE);
        long loaded = System.nanoTime();

        List<Result> results = cases.parallelStream().map(X509LimboCorpusTest::run).toList();
        long ran = System.nanoTime();

        Summary summary = new Summary(results);
        String report = summary.render(Duration.ofNanos(loaded - start), Duration.ofNanos(ran - loaded));
        System.out.println(report);
        Path reportFile = Path.of("target", "x509-limbo-report.txt");
        Files.createDirectories(reportFile.getParent());
        Files.writeString(reportFile, report + "\n" + summary.details());

        assertThat(summary.inScopeFalseAccepts()).as("false accepts in scope (see %s)", reportFile).isEmpty();
        assertThat(summary.inScopeFalseRejects().size())
                .as("false rejects in scope, at most the JDK's on the same cases (see %s)", reportFile)
                .isLessThanOrEqualTo(summary.jdkInScopeFalseRejects())
                .isLessThanOrEqualTo(PUBLISHED_JDK_FALSE_REJECTS);
        assertThat(summary.inScopeFalseRejects().stream().map(Result::id).toList())
                .as("false rejects in scope beyond the deliberate ones (see %s)", reportFile)
                .isSubsetOf(KNOWN_FALSE_REJECTS);
    }

    // ---------------------------------------------------------------- running one case

    record Result(String id, boolean expectSuccess, Optional<String> outOfScope, boolean accepted,
                  String rejection, boolean jdkAccepted) {
    }

    @SuppressWarnings("unchecked")
    private static Result run(Map<String, Object> c) {
        String id = (String) c.get("id");
        boolean expectSuccess = "SUCCESS".equals(c.get("expected_result"));
        Optional<String> outOfScope = outOfScopeReason(c);
        boolean server = "SERVER".equals(c.get("validation_kind"));
        Map<String, Object> peerName = (Map<String, Object>) c.get("expected_peer_name");
        String kind = peerName == null ? null : (String) peerName.get("kind");
        String value = peerName == null ? null : (String) peerName.get("value");
        Instant time = c.get("validation_time") == null ? Instant.now()
                : OffsetDateTime.parse((String) c.get("validation_time")).toInstant();

        List<X509Certificate> anchors;
        List<X509Certificate> presented = new ArrayList<>();
        try {
            anchors = certificates((List<String>) c.get("trusted_certs"));
            presented.addAll(certificates(List.of((String) c.get("peer_certificate"))));
            presented.addAll(certificates((List<String>) c.get("untrusted_intermediates")));
        } catch (CertificateException e) {
            // A TLS stack cannot get past parsing a certificate the JDK cannot read: a rejection.
            return new Result(id, expectSuccess, outOfScope, false, "UNPARSEABLE (JDK)", false);
        }
        // This verifier runs first: the JDK caches signature checks in its certificate objects.
        long oursStart = System.nanoTime();

        boolean accepted;
        String rejection = "";
        try {
            PeerCertificateVerifier.Builder builder = PeerCertificateVerifier.builder()
                    .trustAnchors(anchors)
                    .clock(Clock.fixed(time, ZoneOffset.UTC));
            if (c.get("max_chain_depth") != null) {
                builder.maxIntermediates(Math.min(((Number) c.get("max_chain_depth")).intValue(), 16));
            }
            PeerCertificateVerifier verifier = builder.build();
            if (server) {
                if (kind == null) {
                    throw new IllegalArgumentException("no expected peer name");
                }
                PeerName expected = "IP".equals(kind) ? PeerName.ip(value) : PeerName.dns(value);
                verifier.verifyServer(presented, expected);
            } else {
                verifier.verifyClient(presented);
            }
            accepted = true;
        } catch (PeerVerificationException e) {
            accepted = false;
            rejection = e.reason() + ": " + e.getMessage();
        } catch (IllegalArgumentException e) {
            accepted = false;
            rejection = "INVALID_PEER_NAME: " + e.getMessage();
        }
        long jdkStart = System.nanoTime();
        OURS_NANOS.add(jdkStart - oursStart);
        boolean jdk = JdkBaseline.accepts(anchors, presented, time, server, kind, value);
        JDK_NANOS.add(System.nanoTime() - jdkStart);
        return new Result(id, expectSuccess, outOfScope, accepted, rejection, jdk);
    }

    @SuppressWarnings("unchecked")
    static Optional<String> outOfScopeReason(Map<String, Object> c) {
        String id = (String) c.get("id");
        List<String> features = (List<String>) c.get("features");
        if (features.contains("has-crl") || !((List<?>) c.get("crls")).isEmpty()) {
            return Optional.of("CRLs: revocation is not checked");
        }
        if (features.contains("pedantic-public-suffix-wildcard")) {
            return Optional.of("public suffix list not embedded");
        }
        if (features.contains("rfc5280-incompatible-with-webpki") || !((List<?>) c.get("conflicts_with")).isEmpty()
                && id.startsWith("rfc5280::")) {
            return Optional.of("RFC 5280 case conflicting with a Web PKI case (Web PKI profile followed)");
        }
        for (String feature : features) {
            if (!SUPPORTED_FEATURES.contains(feature)) {
                return Optional.of("feature " + feature + " not supported");
            }
        }
        if (id.startsWith(CN_MUST_BE_A_SAN)) {
            return Optional.of("CA/B Forum-only rule: the subject CN must repeat a SAN (this verifier never reads"
                    + " the CN; private certificates hold service or role names there)");
        }
        if (PROFILE_EXCLUSIONS.containsKey(id)) {
            return Optional.of("CA/B Forum-only rule: " + PROFILE_EXCLUSIONS.get(id));
        }
        boolean server = "SERVER".equals(c.get("validation_kind"));
        if (server && c.get("expected_peer_name") == null) {
            return Optional.of("SERVER case without an expected peer name");
        }
        if (server && !Set.of("DNS", "IP").contains(((Map<String, Object>) c.get("expected_peer_name")).get("kind"))) {
            return Optional.of("RFC 822 (e-mail) peer names not supported");
        }
        if (!server && ((List<Map<String, Object>>) c.get("expected_peer_names")).stream()
                .anyMatch(n -> "RFC822".equals(n.get("kind")))) {
            return Optional.of("RFC 822 (e-mail) peer names and e-mail name constraints not supported");
        }
        List<String> keyUsage = (List<String>) c.get("key_usage");
        if (!keyUsage.isEmpty() && !keyUsage.equals(List.of("digitalSignature"))) {
            return Optional.of("key usage requirement other than the TLS default");
        }
        List<String> eku = (List<String>) c.get("extended_key_usage");
        if (!eku.isEmpty() && !eku.equals(List.of(server ? "serverAuth" : "clientAuth"))) {
            return Optional.of("extended key usage requirement other than the TLS default");
        }
        if (!((List<?>) c.get("signature_algorithms")).isEmpty()) {
            return Optional.of("signature algorithm requirement");
        }
        return Optional.empty();
    }

    private static List<X509Certificate> certificates(List<String> pems) throws CertificateException {
        CertificateFactory factory = CertificateFactory.getInstance("X.509");
        List<X509Certificate> out = new ArrayList<>();
        for (String pem : pems) {
            out.add((X509Certificate) factory.generateCertificate(
                    new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII))));
        }
        return out;
    }

    // ---------------------------------------------------------------- corpus

    /**
     * The corpus in this module: under surefire's {@code basedir} property (the module directory),
     * else under the working directory (an IDE's, normally the module directory too). A missing
     * corpus fails the test; it is never skipped.
     */
    static Path locateCorpus() {
        Path module = Path.of(System.getProperty("basedir", "")).toAbsolutePath();
        Path corpus = module.resolve(CORPUS);
        if (!Files.isRegularFile(corpus)) {
            fail("the x509-limbo corpus is missing: expected %s (module directory %s). It is part of this"
                    + " repository (core/src/test/data/x509-limbo/); run the test from the core module directory"
                    + " of a complete checkout", corpus, module);
        }
        return corpus;
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> load(Path corpus) throws IOException {
        String json;
        try (InputStream in = new GZIPInputStream(Files.newInputStream(corpus))) {
            json = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        Map<String, Object> root = (Map<String, Object>) MiniJson.parse(json);
        assertThat(((Number) root.get("version")).intValue()).as("limbo schema version").isEqualTo(1);
        return (List<Map<String, Object>>) root.get("testcases");
    }

    // ---------------------------------------------------------------- summary

    static final class Summary {
        private final List<Result> results;
        private final List<Result> inScope;
        private final List<Result> outOfScope;

        Summary(List<Result> results) {
            this.results = results;
            this.inScope = results.stream().filter(r -> r.outOfScope().isEmpty()).toList();
            this.outOfScope = results.stream().filter(r -> r.outOfScope().isPresent()).toList();
        }

        List<Result> inScopeFalseAccepts() {
            return inScope.stream().filter(r -> r.accepted() && !r.expectSuccess()).toList();
        }

        List<Result> inScopeFalseRejects() {
            return inScope.stream().filter(r -> !r.accepted() && r.expectSuccess()).toList();
        }

        int jdkInScopeFalseRejects() {
            return (int) inScope.stream().filter(r -> !r.jdkAccepted() && r.expectSuccess()).count();
        }

        String render(Duration load, Duration run) {
            StringBuilder out = new StringBuilder();
            long passed = inScope.stream().filter(r -> r.accepted() == r.expectSuccess()).count();
            out.append("x509-limbo: ").append(results.size()).append(" cases (load ").append(load.toMillis())
                    .append(" ms, verify ").append(run.toMillis())
                    .append(" ms wall clock for both verifiers; summed over threads: this verifier ")
                    .append(OURS_NANOS.sum() / 1_000_000).append(" ms, JDK baseline ")
                    .append(JDK_NANOS.sum() / 1_000_000).append(" ms)\n");
            out.append(String.format("  in scope: %d  passed: %d  false accepts: %d  false rejects: %d%n",
                    inScope.size(), passed, inScopeFalseAccepts().size(), inScopeFalseRejects().size()));
            long jdkPassed = inScope.stream().filter(r -> r.jdkAccepted() == r.expectSuccess()).count();
            long jdkFa = inScope.stream().filter(r -> r.jdkAccepted() && !r.expectSuccess()).count();
            out.append(String.format("  JDK baseline, same cases: passed: %d  false accepts: %d  false rejects: %d%n",
                    jdkPassed, jdkFa, jdkInScopeFalseRejects()));
            long jdkAllPassed = results.stream().filter(r -> r.jdkAccepted() == r.expectSuccess()).count();
            long jdkAllFa = results.stream().filter(r -> r.jdkAccepted() && !r.expectSuccess()).count();
            long jdkAllFr = results.stream().filter(r -> !r.jdkAccepted() && r.expectSuccess()).count();
            out.append(String.format("  JDK baseline, all cases: passed: %d  false accepts: %d  false rejects: %d"
                    + " (published: 9512 / 184 / 84)%n", jdkAllPassed, jdkAllFa, jdkAllFr));
            out.append("  out of scope: ").append(outOfScope.size()).append('\n');
            outOfScope.stream().collect(Collectors.groupingBy(r -> r.outOfScope().get(), TreeMap::new,
                    Collectors.toList())).forEach((reason, list) -> {
                        out.append(String.format("    %4d  %s%n", list.size(), reason));
                        list.forEach(r -> out.append(String.format("            %s expected %s, got %s%n", r.id(),
                                r.expectSuccess() ? "SUCCESS" : "FAILURE", r.accepted() ? "SUCCESS" : "FAILURE")));
                    });
            out.append("  in-scope rejections by reason:\n");
            inScope.stream().filter(r -> !r.accepted())
                    .collect(Collectors.groupingBy(r -> r.rejection().split(":", 2)[0], TreeMap::new,
                            Collectors.counting()))
                    .forEach((reason, n) -> out.append(String.format("    %5d  %s%n", n, reason)));
            out.append("  false accepts:\n");
            inScopeFalseAccepts().forEach(r -> out.append("    ").append(r.id()).append('\n'));
            out.append("  false rejects:\n");
            inScopeFalseRejects().forEach(r -> out.append("    ").append(r.id()).append("  ")
                    .append(r.rejection()).append('\n'));
            return out.toString();
        }

        String details() {
            StringBuilder out = new StringBuilder("all in-scope rejections:\n");
            inScope.stream().filter(r -> !r.accepted()).forEach(r -> out.append(r.id()).append(r.expectSuccess()
                    ? " (FALSE REJECT) " : " ").append(r.rejection()).append('\n'));
            return out.toString();
        }
    }
}
