package io.settler.zerotrust.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.settler.zerotrust.identity.CertificateIdentityException.Reason;
import io.settler.zerotrust.pki.CertificateDefect;
import io.settler.zerotrust.pki.DevCertificateAuthority;
import java.math.BigInteger;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Instant;
import java.util.Date;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The one rule for reading a certificate's SPIFFE identity, {@link ServiceIdentity#fromCertificate}. */
class ServiceIdentityFromCertificateTest {

    private static final DevCertificateAuthority CA = DevCertificateAuthority.create("example.org");

    @Test
    void readsTheOneSpiffeIdOfADevCertificate() {
        X509Certificate leaf = CA.leaf("api").server().dnsNames("api.example.org").issue().certificate();

        assertThat(ServiceIdentity.fromCertificate(leaf)).contains(ServiceIdentity.parse("spiffe://example.org/api"));
    }

    @Test
    void readsWhatTheCertificateSaysNotWhatWasAskedFor() {
        X509Certificate leaf = CA.leaf("api").defect(CertificateDefect.WRONG_SAN).issue().certificate();

        assertThat(ServiceIdentity.fromCertificate(leaf)).contains(ServiceIdentity.of("example.org", "impostor-api"));
    }

    @Test
    void noSubjectAlternativeNamesMeansNoIdentity() {
        assertThat(ServiceIdentity.fromCertificate(certificate(null))).isEmpty();
    }

    @Test
    void dnsNamesAndNonSpiffeUrisAloneMeanNoIdentity() {
        assertThat(ServiceIdentity.fromCertificate(certificate(new GeneralNames(
                new GeneralName(GeneralName.dNSName, "api.example.org"))))).isEmpty();
        assertThat(ServiceIdentity.fromCertificate(certificate(uris("https://example.org/api")))).isEmpty();
        assertThat(ServiceIdentity.fromCertificate(certificate(uris("urn:example:api", "https://example.org/"))))
                .isEmpty();
    }

    @Test
    void theCommonNameIsNeverUsed() {
        X509Certificate leaf = CA.leaf("api").commonName("spiffe://example.org/admin").issue().certificate();

        assertThat(ServiceIdentity.fromCertificate(leaf)).contains(ServiceIdentity.of("example.org", "api"));
    }

    @Test
    void refusesTwoSpiffeIds() {
        assertRefused(certificate(uris("spiffe://example.org/api", "spiffe://example.org/admin")),
                Reason.SEVERAL_URI_NAMES, "2 URI SANs", "spiffe://example.org/admin", "exactly one URI SAN");
    }

    @Test
    void refusesASpiffeIdNextToAnotherUri() {
        assertRefused(certificate(uris("https://example.org/api", "spiffe://example.org/api")),
                Reason.SEVERAL_URI_NAMES, "2 URI SANs", "1 of them", "reissue it with only that one");
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "SPIFFE://example.org/api",         // upper-case scheme: a claim, and not a valid one
        "Spiffe://example.org/api",
        "spiffe://Example.org/api",         // upper-case trust domain
        "spiffe://example.org:8443/api",    // port
        "spiffe://example.org",             // no path
        "spiffe://example.org/api?x=1",     // query
        "spiffe:example.org/api",           // no authority
    })
    void refusesAnInvalidSpiffeId(String uri) {
        assertRefused(certificate(uris(uri)), Reason.INVALID_SPIFFE_ID, "not a valid SPIFFE ID", "reissue it");
    }

    @Test
    void refusedTextIsEscaped() {
        assertRefused(certificate(uris("spiffe://example.org/caf%C3%A9")), Reason.INVALID_SPIFFE_ID,
                "'spiffe://example.org/caf%C3%A9'", "percent-encoding");
    }

    @Test
    void aUriSanTheJdkCannotParseIsReadAndRefusedNotTakenAsAbsent() {
        // The JDK never reports such a URI: JDK 17 drops the non-critical SAN extension as if there were
        // no names (null), newer JDKs throw. Either way the name is not there to be read through the JDK.
        X509Certificate forged = certificate(uris("spiffe://example.org/api\u001b[31m"));
        Object jdkNames = getSubjectAlternativeNames(forged);
        assertThat(jdkNames == null || jdkNames instanceof java.security.cert.CertificateParsingException)
                .as("what the JDK reports: %s", jdkNames).isTrue();

        assertRefused(forged, Reason.INVALID_SPIFFE_ID, "found '\\u001b'");
    }

    @Test
    void refusesAnUnparseableSubjectAlternativeNameExtension() {
        assertRefused(certificateWithRawSan(new byte[] {0x30, 0x05, (byte) 0x86, 0x07, 'x'}),
                Reason.UNREADABLE_NAMES, "cannot be parsed");
    }

    private static Object getSubjectAlternativeNames(X509Certificate certificate) {
        try {
            return certificate.getSubjectAlternativeNames();
        } catch (java.security.cert.CertificateParsingException e) {
            return e;
        }
    }

    private static void assertRefused(X509Certificate certificate, Reason reason, String... fragments) {
        assertThatThrownBy(() -> ServiceIdentity.fromCertificate(certificate))
                .isInstanceOfSatisfying(CertificateIdentityException.class,
                        e -> assertThat(e.reason()).isEqualTo(reason))
                .hasMessageContainingAll(fragments);
    }

    private static GeneralNames uris(String... uris) {
        GeneralName[] names = new GeneralName[uris.length];
        for (int i = 0; i < uris.length; i++) {
            names[i] = new GeneralName(GeneralName.uniformResourceIdentifier, uris[i]);
        }
        return new GeneralNames(names);
    }

    /** A self-signed certificate with these subject alternative names (none when null). */
    private static X509Certificate certificate(GeneralNames names) {
        return build(names, null);
    }

    private static X509Certificate certificateWithRawSan(byte[] value) {
        return build(null, value);
    }

    private static X509Certificate build(GeneralNames names, byte[] rawSan) {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
            generator.initialize(new ECGenParameterSpec("secp256r1"));
            KeyPair keys = generator.generateKeyPair();
            Instant now = Instant.now();
            X500Name subject = new X500Name("CN=test");
            X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(subject,
                    new BigInteger(64, new SecureRandom()).setBit(0), Date.from(now.minusSeconds(60)),
                    Date.from(now.plusSeconds(3600)), subject, keys.getPublic());
            if (names != null) {
                builder.addExtension(Extension.subjectAlternativeName, false, names);
            }
            if (rawSan != null) {
                builder.addExtension(Extension.subjectAlternativeName, false, rawSan);
            }
            return new JcaX509CertificateConverter().getCertificate(
                    builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(keys.getPrivate())));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
