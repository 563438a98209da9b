package io.settler.zerotrust.benchmarks.pki;

import io.settler.zerotrust.pki.DevCertificateAuthority;
import io.settler.zerotrust.pki.IssuedCertificate;
import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Date;
import java.util.List;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * Issuing one X.509 leaf certificate for {@code spiffe://example.org/api}: a fresh EC P-256 key
 * pair, signed SHA256withECDSA by an EC P-256 root, with the URI SAN, {@code KeyUsage
 * digitalSignature}, EKU {@code serverAuth}+{@code clientAuth}, {@code BasicConstraints cA=false}
 * and subject/authority key identifiers, returned as a parsed {@link X509Certificate}.
 *
 * <p>{@code baseline} does it by hand with Bouncy Castle; {@code devCertificateAuthority} calls
 * {@code DevCertificateAuthority.leaf("api").serverAndClient().issue()}. Both CAs are made once per
 * trial; setup checks that both leaves carry the same extensions, so the baseline stays a fair one.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class LeafIssuanceBenchmark {

    private static final String TRUST_DOMAIN = "example.org";
    private static final String SPIFFE_ID = "spiffe://" + TRUST_DOMAIN + "/api";

    private DevCertificateAuthority ca;
    private KeyPair rootKeys;
    private X509Certificate rootCertificate;
    private X500Name rootName;
    private SecureRandom random;

    /** Makes both CAs and checks that their leaves have the same extensions. */
    @Setup
    public void setUp() throws Exception {
        ca = DevCertificateAuthority.create(TRUST_DOMAIN);
        random = new SecureRandom();
        rootKeys = ecP256();
        rootName = new X500Name("CN=Baseline Root CA " + TRUST_DOMAIN);
        Instant now = Instant.now();
        X509v3CertificateBuilder root = new JcaX509v3CertificateBuilder(rootName, serial(),
                Date.from(now.minus(Duration.ofMinutes(5))), Date.from(now.plus(Duration.ofDays(30))),
                rootName, rootKeys.getPublic());
        root.addExtension(Extension.basicConstraints, true, new BasicConstraints(0));
        root.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
        root.addExtension(Extension.subjectKeyIdentifier, false,
                new JcaX509ExtensionUtils().createSubjectKeyIdentifier(rootKeys.getPublic()));
        rootCertificate = sign(root);

        String ours = shape(devCertificateAuthority().certificate());
        String theirs = shape(baseline());
        if (!ours.equals(theirs)) {
            throw new IllegalStateException("the baseline no longer issues what DevCertificateAuthority issues;"
                    + " align it before comparing.\n ours:     " + ours + "\n baseline: " + theirs);
        }
    }

    /** What both leaves must share: extensions, key usage, extended key usage, names and algorithms. */
    private static String shape(X509Certificate leaf) throws GeneralSecurityException {
        return "critical " + new TreeSet<>(leaf.getCriticalExtensionOIDs())
                + ", non-critical " + new TreeSet<>(leaf.getNonCriticalExtensionOIDs())
                + ", keyUsage " + Arrays.toString(leaf.getKeyUsage())
                + ", EKU " + leaf.getExtendedKeyUsage()
                + ", SAN " + List.copyOf(leaf.getSubjectAlternativeNames())
                + ", CA " + leaf.getBasicConstraints()
                + ", " + leaf.getPublicKey().getAlgorithm() + " key, " + leaf.getSigAlgName();
    }

    /** The reference: Bouncy Castle's builder and signer, called directly. */
    @Benchmark
    public X509Certificate baseline() throws GeneralSecurityException, CertIOException, OperatorCreationException {
        KeyPair keys = ecP256();
        Instant now = Instant.now();
        X509v3CertificateBuilder leaf = new JcaX509v3CertificateBuilder(rootName, serial(),
                Date.from(now.minus(Duration.ofMinutes(5))), Date.from(now.plus(Duration.ofHours(24))),
                new X500Name("CN=api"), keys.getPublic());
        JcaX509ExtensionUtils utils = new JcaX509ExtensionUtils();
        leaf.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
        leaf.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
        leaf.addExtension(Extension.extendedKeyUsage, false,
                new ExtendedKeyUsage(
                        new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}));
        leaf.addExtension(Extension.subjectAlternativeName, false,
                new GeneralNames(new GeneralName(GeneralName.uniformResourceIdentifier, SPIFFE_ID)));
        leaf.addExtension(Extension.subjectKeyIdentifier, false, utils.createSubjectKeyIdentifier(keys.getPublic()));
        leaf.addExtension(Extension.authorityKeyIdentifier, false, utils.createAuthorityKeyIdentifier(rootCertificate));
        return sign(leaf);
    }

    /** Ours: the development CA's fluent request. */
    @Benchmark
    public IssuedCertificate devCertificateAuthority() {
        return ca.leaf("api").serverAndClient().issue();
    }

    private X509Certificate sign(X509v3CertificateBuilder builder)
            throws GeneralSecurityException, OperatorCreationException {
        return new JcaX509CertificateConverter().getCertificate(
                builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(rootKeys.getPrivate())));
    }

    private BigInteger serial() {
        return new BigInteger(159, random).setBit(0);
    }

    private static KeyPair ecP256() throws GeneralSecurityException {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(new ECGenParameterSpec("secp256r1"));
        return generator.generateKeyPair();
    }
}
