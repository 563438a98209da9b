/**
 * Core: TLS identities, trust bundles, service identities, peer authorization, rotation, audit,
 * development PKI and policy. Every package is API.
 *
 * <p>No dependency's type appears in this module's API, so none is required transitively: Bouncy
 * Castle (certificates, PEM and PKCS#12), SLF4J (audit log) and Jackson (policy JSON, read as a tree:
 * nothing is bound by reflection, so nothing is opened) stay implementation details.
 */
module io.settler.zerotrust.core {
    // @NullMarked packages, @Nullable in the API: the annotations are part of what users compile against.
    requires static transitive org.jspecify;
    requires org.bouncycastle.provider;
    requires org.bouncycastle.pkix;
    requires org.bouncycastle.util;
    requires org.slf4j;
    requires com.fasterxml.jackson.databind;

    exports io.settler.zerotrust.audit;
    exports io.settler.zerotrust.authz;
    exports io.settler.zerotrust.credentials;
    exports io.settler.zerotrust.identity;
    exports io.settler.zerotrust.network;
    exports io.settler.zerotrust.pki;
    exports io.settler.zerotrust.policy;
    exports io.settler.zerotrust.time;
    exports io.settler.zerotrust.tls;
    exports io.settler.zerotrust.trust;
}
