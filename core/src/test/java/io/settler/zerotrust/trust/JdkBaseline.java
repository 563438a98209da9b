package io.settler.zerotrust.trust;

import java.net.InetAddress;
import java.security.cert.CertPathBuilder;
import java.security.cert.CertStore;
import java.security.cert.CollectionCertStoreParameters;
import java.security.cert.PKIXBuilderParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509CertSelector;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Date;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;

/**
 * What the JDK's own TLS trust manager decides, reproduced at an arbitrary time (the real trust
 * manager only validates at "now" and needs a live handshake): the JDK's PKIX
 * {@link CertPathBuilder} (RFC 5280 plus {@code jdk.certpath.disabledAlgorithms}), then the rules
 * of the JDK's {@code EndEntityChecker} (EKU serverAuth/clientAuth or anyExtendedKeyUsage,
 * digitalSignature) and {@code HostnameChecker} for HTTPS (DNS SANs with wildcards in the left-most
 * label, falling back to the most specific subject CN when there is no DNS SAN; IP SANs only).
 * A comparison baseline for the corpus test, not production code.
 */
final class JdkBaseline {

    private static final String SERVER_AUTH = "1.3.6.1.5.5.7.3.1";
    private static final String CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";
    private static final String ANY_EKU = "2.5.29.37.0";

    private JdkBaseline() {
    }

    static boolean accepts(Collection<X509Certificate> anchors, List<X509Certificate> presented, Instant time,
                           boolean server, String nameKind, String nameValue) {
        try {
            X509Certificate leaf = presented.get(0);
            Set<TrustAnchor> trustAnchors = new HashSet<>();
            anchors.forEach(a -> trustAnchors.add(new TrustAnchor(a, null)));
            X509CertSelector target = new X509CertSelector();
            target.setCertificate(leaf);
            PKIXBuilderParameters parameters = new PKIXBuilderParameters(trustAnchors, target);
            parameters.setRevocationEnabled(false);
            parameters.setDate(Date.from(time));
            parameters.addCertStore(CertStore.getInstance("Collection",
                    new CollectionCertStoreParameters(new ArrayList<>(presented))));
            CertPathBuilder.getInstance("PKIX").build(parameters);

            List<String> eku = leaf.getExtendedKeyUsage();
            String purpose = server ? SERVER_AUTH : CLIENT_AUTH;
            if (eku != null && !eku.contains(purpose) && !eku.contains(ANY_EKU)) {
                return false;
            }
            boolean[] keyUsage = leaf.getKeyUsage();
            if (keyUsage != null && !keyUsage[0]) {
                return false;
            }
            if (!server || nameKind == null) {
                return true;
            }
            return "IP".equals(nameKind) ? matchesIp(leaf, nameValue) : matchesDns(leaf, nameValue);
        } catch (Exception e) {
            return false;
        }
    }

    private static boolean matchesIp(X509Certificate leaf, String expected) throws Exception {
        InetAddress address = InetAddress.getByName(expected);
        Collection<List<?>> sans = leaf.getSubjectAlternativeNames();
        if (sans == null) {
            return false;
        }
        for (List<?> san : sans) {
            if (((Integer) san.get(0)) == 7 && InetAddress.getByName((String) san.get(1)).equals(address)) {
                return true;
            }
        }
        return false;
    }

    private static boolean matchesDns(X509Certificate leaf, String expected) throws Exception {
        String host = expected.toLowerCase(Locale.ROOT);
        Collection<List<?>> sans = leaf.getSubjectAlternativeNames();
        boolean hasDns = false;
        if (sans != null) {
            for (List<?> san : sans) {
                if (((Integer) san.get(0)) == 2) {
                    hasDns = true;
                    if (matches(host, ((String) san.get(1)).toLowerCase(Locale.ROOT))) {
                        return true;
                    }
                }
            }
        }
        if (hasDns) {
            return false;
        }
        String cn = null;
        for (Rdn rdn : new LdapName(leaf.getSubjectX500Principal().getName()).getRdns()) {
            if (rdn.getType().equalsIgnoreCase("CN")) {
                cn = rdn.getValue().toString(); // RDNs are listed least specific first: keep the last
            }
        }
        return cn != null && matches(host, cn.toLowerCase(Locale.ROOT));
    }

    /** The JDK's left-most-label wildcard rule: '*' may appear anywhere in the first label only. */
    private static boolean matches(String host, String pattern) {
        if (!pattern.contains("*")) {
            return host.equals(pattern);
        }
        int dot = pattern.indexOf('.');
        int hostDot = host.indexOf('.');
        if (dot < 0 || hostDot < 0 || pattern.substring(dot).contains("*")) {
            return false;
        }
        if (!host.substring(hostDot).equals(pattern.substring(dot))) {
            return false;
        }
        String glob = Pattern.quote(pattern.substring(0, dot)).replace("*", "\\E.*\\Q");
        return host.substring(0, hostDot).matches(glob);
    }
}
