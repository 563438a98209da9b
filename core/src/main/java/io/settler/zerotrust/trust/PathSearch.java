package io.settler.zerotrust.trust;

import io.settler.zerotrust.audit.LogSafe;
import io.settler.zerotrust.trust.CertificateRules.Purpose;
import io.settler.zerotrust.trust.CertificateRules.Role;
import io.settler.zerotrust.trust.PeerVerificationException.Reason;
import java.security.GeneralSecurityException;
import java.security.NoSuchAlgorithmException;
import java.security.Provider;
import java.security.cert.CertPath;
import java.security.cert.CertPathValidator;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.PKIXReason;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.Date;
import java.util.Deque;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import javax.security.auth.x500.X500Principal;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.jspecify.annotations.Nullable;

/**
 * One path search: a depth-first walk from the leaf towards the trust anchors over the presented
 * intermediates, trying every alternative issuer (by name, preferring matching key identifiers and
 * currently valid certificates) until a complete path passes every check. Each complete candidate
 * is checked by this verifier's own rules and then by the JDK's PKIX {@link CertPathValidator}.
 *
 * <p>The peer is not authenticated yet, so the work it can cause is bounded:
 * <ul>
 *   <li>before the walk, the presented certificates whose signatures chain to a trust anchor are
 *       found from the anchors down ({@link #markAnchored}); the walk uses no other presented
 *       certificate as an issuer. So a signature is only ever checked with the key of an anchor
 *       or of a certificate an anchor certified: the peer's own keys never verify anything,
 *       however many CAs it invents;</li>
 *   <li>at most {@link #MAX_CANDIDATES} issuers are checked for one certificate, and at most as
 *       many certificates under one issuer;</li>
 *   <li>every signature check, the JDK validator's included, is charged to the
 *       {@link Budget}; the walk's steps and the JDK validations are capped as well.</li>
 * </ul>
 * Not thread-safe: one instance per verification.
 */
final class PathSearch {

    /** Most intermediates in any path, self-issued ones included. */
    static final int HARD_MAX_INTERMEDIATES = 16;
    /** Most issuer candidates examined in one search. */
    private static final int MAX_STEPS = 1_000;
    /** Most complete paths handed to the JDK validator in one search. */
    private static final int MAX_FULL_VALIDATIONS = 4;
    /**
     * Most issuers whose signature is checked for one certificate, and most certificates checked
     * under one issuer: cross-signing and key rollover need two or three.
     */
    static final int MAX_CANDIDATES = 4;
    /** Processes certificate policies over a whole path after a re-anchoring; never registered. */
    private static final Provider POLICY_VALIDATOR = new BouncyCastleProvider();
    /** The extensions that can make a path fail for its certificate policies (RFC 5280 4.2.1.11, .5, .14). */
    private static final List<String> POLICY_EXTENSIONS = List.of(Extension.policyConstraints.getId(),
            Extension.policyMappings.getId(), Extension.inhibitAnyPolicy.getId());

    private final Map<X500Principal, List<Anchor>> anchors;
    private final Map<X500Principal, List<CertificateView>> intermediates = new HashMap<>();
    private final Map<X500Principal, List<CertificateView>> intermediatesByIssuer = new HashMap<>();
    /** Presented certificates whose signature chains to a trust anchor, found before the walk. */
    private final Set<CertificateView> anchored = Collections.newSetFromMap(new IdentityHashMap<>());
    private final Instant now;
    private final Purpose purpose;
    private final int maxIntermediates;
    private final IdentityHashMap<CertificateView, Optional<PeerVerificationException>> caChecks =
            new IdentityHashMap<>();
    private final IdentityHashMap<CertificateView, Optional<NameConstraintRules.Constraints>> constraints =
            new IdentityHashMap<>();
    private final Map<List<Object>, Boolean> signatures = new HashMap<>();
    private final IdentityHashMap<CertificateView, Integer> issuersChecked = new IdentityHashMap<>();
    private final IdentityHashMap<CertificateView, Integer> childrenChecked = new IdentityHashMap<>();
    private final Budget budget;
    private int steps;
    private int fullValidations;
    private @Nullable PeerVerificationException bestFailure;
    private int bestScore = -1;
    private @Nullable CertificateView deepestUnissued;

    /** A trust anchor prepared once per verifier. */
    record Anchor(CertificateView view, TrustAnchor trustAnchor) {
    }

    /**
     * The signature checks one verification may make, the JDK validator's included; a backstop
     * behind the limits above, which bound a refusal to a few checks. Counts what was spent, for
     * tests. Not thread-safe: one per verification.
     */
    static final class Budget {
        private final int limit;
        private int spent;

        Budget(int limit) {
            this.limit = limit;
        }

        /**
         * The budget for a verifier allowing {@code maxIntermediates}: the longest path checked
         * twice (here and by the JDK), with room for an alternative issuer, plus one check per
         * certificate a peer may present for finding which of them an anchor certified.
         */
        static Budget forPathsUpTo(int maxIntermediates, int maxPresented) {
            return new Budget(2 * (maxIntermediates + 2) + maxPresented);
        }

        void charge(int signatureChecks) throws PeerVerificationException {
            spent += signatureChecks;
            if (spent > limit) {
                throw new PeerVerificationException(Reason.PATH_SEARCH_LIMIT, "verifying the presented chain needs"
                        + " more than " + limit + " signature checks; the peer should send only its own chain");
            }
        }

        /** Signature checks charged so far. */
        int spent() {
            return spent;
        }

        /** Signature checks allowed. */
        int limit() {
            return limit;
        }
    }

    PathSearch(Map<X500Principal, List<Anchor>> anchors, List<CertificateView> presentedIntermediates,
               Instant now, Purpose purpose, int maxIntermediates, Budget budget) {
        this.anchors = anchors;
        this.now = now;
        this.purpose = purpose;
        this.maxIntermediates = maxIntermediates;
        this.budget = budget;
        for (CertificateView view : presentedIntermediates) {
            intermediates.computeIfAbsent(view.subject, k -> new ArrayList<>()).add(view);
            intermediatesByIssuer.computeIfAbsent(view.issuer, k -> new ArrayList<>()).add(view);
        }
    }

    /** The validated path (leaf first, anchor last), or the most telling reason none exists. */
    List<X509Certificate> find(CertificateView leaf) throws PeerVerificationException {
        markAnchored(leaf);
        List<CertificateView> path = new ArrayList<>();
        path.add(leaf);
        Optional<List<X509Certificate>> found = extend(path);
        if (found.isPresent()) {
            return found.get();
        }
        if (bestFailure != null) {
            throw bestFailure;
        }
        CertificateView missing = deepestUnissued == null ? leaf : deepestUnissued;
        throw new PeerVerificationException(Reason.UNTRUSTED_ISSUER, "no trust anchor or presented intermediate"
                + " is the issuer '" + CertificateView.printable(missing.issuer) + "' of "
                + describe(missing, missing == leaf)
                + "; the peer must send its intermediate certificates, or this side must trust its CA");
    }

    private Optional<List<X509Certificate>> extend(List<CertificateView> path) throws PeerVerificationException {
        CertificateView current = path.get(path.size() - 1);
        boolean foundIssuer = false;
        for (Anchor anchor : anchorsFor(current)) {
            foundIssuer = true;
            step();
            if (anchor.view().certificate.equals(current.certificate)) {
                continue;
            }
            if (!acceptIssuer(path, anchor.view(), Role.ANCHOR)) {
                continue;
            }
            List<CertificateView> candidate = new ArrayList<>(path);
            candidate.add(anchor.view());
            try {
                validate(candidate, anchor);
                List<X509Certificate> certificates = new ArrayList<>();
                candidate.forEach(v -> certificates.add(v.certificate));
                return Optional.of(certificates);
            } catch (PeerVerificationException e) {
                record(e, 100 + candidate.size());
            }
        }
        List<CertificateView> issuers = intermediatesFor(current);
        for (CertificateView issuer : issuers) {
            foundIssuer = true;
            step();
            if (path.stream().anyMatch(v -> v.certificate.equals(issuer.certificate) || v.sameSubjectAndKey(issuer))) {
                continue; // a cycle
            }
            int depth = path.size(); // intermediates in the path once this one is added
            long nonSelfIssued = path.stream().skip(1).filter(v -> !v.selfIssued).count() + (issuer.selfIssued ? 0 : 1);
            if (depth > HARD_MAX_INTERMEDIATES || nonSelfIssued > maxIntermediates) {
                record(new PeerVerificationException(Reason.PATH_TOO_LONG, "the path from the peer's certificate to"
                        + " a trust anchor would need more than " + maxIntermediates + " intermediate CAs"),
                        path.size());
                continue;
            }
            if (!acceptIssuer(path, issuer, Role.INTERMEDIATE)) {
                continue;
            }
            path.add(issuer);
            Optional<List<X509Certificate>> found = extend(path);
            path.remove(path.size() - 1);
            if (found.isPresent()) {
                return found;
            }
        }
        if (!foundIssuer && (deepestUnissued == null || path.size() > 1)) {
            deepestUnissued = current;
        }
        return Optional.empty();
    }

    /**
     * Per-certificate checks of a would-be issuer, then (for a presented CA, only if an anchor
     * certified it) its signature on the current certificate.
     */
    private boolean acceptIssuer(List<CertificateView> path, CertificateView issuer, Role role)
            throws PeerVerificationException {
        CertificateView current = path.get(path.size() - 1);
        // First: a CA no anchor vouches for never joins a path, so that is what to report, not its
        // other faults (a root the peer sends, which this side does not trust, lacks an AKI, say).
        if (role == Role.INTERMEDIATE && !anchored.contains(issuer)) {
            if (path.size() + 1 > bestScore) { // a peer may present dozens: build the message only when it counts
                record(new PeerVerificationException(Reason.UNTRUSTED_ISSUER, role.describe(issuer) + ", the issuer"
                        + " of " + describe(current, path.size() == 1) + (issuer.selfIssued
                        ? ", is a root CA that is not in this side's trust bundle: add it there if the peer is to be"
                                + " trusted"
                        : ", is not signed by a trust anchor nor by a CA that is; the peer must send the"
                                + " intermediates that lead to a CA this side trusts")),
                        path.size() + 1);
            }
            return false;
        }
        Optional<PeerVerificationException> problem = caChecks.computeIfAbsent(issuer, v -> checkIssuer(v, role));
        if (problem.isPresent()) {
            record(problem.get(), path.size() + 1);
            return false;
        }
        Optional<Boolean> verifies = signatureVerifies(current, issuer);
        if (verifies.isEmpty()) {
            record(new PeerVerificationException(Reason.PATH_SEARCH_LIMIT, describe(current, path.size() == 1)
                    + " or " + role.describe(issuer) + " has more than " + MAX_CANDIDATES + " candidates of the same"
                    + " name; the peer should send only its own chain"), path.size() + 1);
            return false;
        }
        if (!verifies.get()) {
            record(badSignature(current, path.size() == 1, role.describe(issuer)), path.size() + 1);
            return false;
        }
        return true;
    }

    /**
     * Finds, from the trust anchors down, the presented certificates whose signature verifies with
     * the key of an anchor or of a certificate found before, so that no signature is ever checked
     * with a key the peer chose: every key used was certified by a trust anchor (whether that
     * certificate may issue is for the walk to judge). Each issuer checks at most
     * {@link #MAX_CANDIDATES} of the certificates naming it. The leaf is not a candidate: the
     * walk checks its issuers.
     */
    private void markAnchored(CertificateView leaf) throws PeerVerificationException {
        Deque<CertificateView> issuers = new ArrayDeque<>();
        for (X500Principal issuerName : intermediatesByIssuer.keySet()) {
            anchors.getOrDefault(issuerName, List.of()).forEach(anchor -> issuers.add(anchor.view()));
        }
        while (!issuers.isEmpty()) {
            CertificateView issuer = issuers.poll();
            List<CertificateView> children = new ArrayList<>(
                    intermediatesByIssuer.getOrDefault(issuer.subject, List.of()));
            children.removeIf(c -> anchored.contains(c) || c == leaf || c.certificate.equals(issuer.certificate)
                    || isAnchor(c));
            children.sort(Comparator.comparingInt(c -> preference(c, issuer)));
            for (CertificateView child : children) {
                if (signatureVerifies(child, issuer).orElse(false)) {
                    anchored.add(child);
                    issuers.add(child);
                }
            }
        }
    }

    private boolean isAnchor(CertificateView view) {
        return anchors.getOrDefault(view.subject, List.of()).stream()
                .anyMatch(a -> a.view().certificate.equals(view.certificate));
    }

    private static PeerVerificationException badSignature(CertificateView child, boolean leaf, String issuer) {
        return new PeerVerificationException(Reason.BAD_SIGNATURE, "the signature on " + describe(child, leaf)
                + " does not verify with the key of " + issuer + "; it was issued by another CA with the same name");
    }

    private Optional<PeerVerificationException> checkIssuer(CertificateView view, Role role) {
        try {
            CertificateRules.checkProfile(view, role);
            CertificateRules.checkValidity(view, role, now);
            CertificateRules.checkCertificateAuthority(view, role, purpose);
            constraintsOf(view, role);
            return Optional.empty();
        } catch (PeerVerificationException e) {
            return Optional.of(e);
        }
    }

    private Optional<NameConstraintRules.Constraints> constraintsOf(CertificateView view, Role role)
            throws PeerVerificationException {
        Optional<NameConstraintRules.Constraints> parsed = constraints.get(view);
        if (parsed == null) {
            parsed = NameConstraintRules.parse(view, role.describe(view));
            constraints.put(view, parsed);
        }
        return parsed;
    }

    /**
     * Whether {@code issuer}'s key verifies {@code child}'s signature; each pair is checked (and
     * charged) once. Empty, unchecked, once {@link #MAX_CANDIDATES} issuers were checked for
     * {@code child} or as many children under {@code issuer}.
     */
    private Optional<Boolean> signatureVerifies(CertificateView child, CertificateView issuer)
            throws PeerVerificationException {
        List<Object> key = List.of(child, issuer);
        Boolean known = signatures.get(key);
        if (known != null) {
            return Optional.of(known);
        }
        if (issuersChecked.getOrDefault(child, 0) >= MAX_CANDIDATES
                || childrenChecked.getOrDefault(issuer, 0) >= MAX_CANDIDATES) {
            return Optional.empty();
        }
        issuersChecked.merge(child, 1, Integer::sum);
        childrenChecked.merge(issuer, 1, Integer::sum);
        budget.charge(1);
        boolean verifies;
        try {
            child.certificate.verify(issuer.certificate.getPublicKey());
            verifies = true;
        } catch (GeneralSecurityException | RuntimeException e) {
            verifies = false;
        }
        signatures.put(key, verifies);
        return Optional.of(verifies);
    }

    /** The checks that need the whole path, then the JDK's RFC 5280 validation. */
    private void validate(List<CertificateView> path, Anchor anchor) throws PeerVerificationException {
        int last = path.size() - 1;
        // Path length constraints of every CA, the trust anchor's included.
        for (int i = 1; i <= last; i++) {
            CertificateView ca = path.get(i);
            if (ca.pathLength != null) {
                long below = path.subList(1, i).stream().filter(v -> !v.selfIssued).count();
                if (below > ca.pathLength) {
                    throw new PeerVerificationException(Reason.PATH_TOO_LONG, roleOf(i, last).describe(ca)
                            + " allows " + ca.pathLength + " intermediate CA(s) below it, but the path has " + below);
                }
            }
        }
        // Name constraints of every CA, the trust anchor's included, on every certificate below it.
        for (int i = 1; i <= last; i++) {
            CertificateView ca = path.get(i);
            Optional<NameConstraintRules.Constraints> nc = constraintsOf(ca, roleOf(i, last));
            if (nc.isEmpty()) {
                continue;
            }
            for (int j = 0; j < i; j++) {
                CertificateView below = path.get(j);
                if (j == 0 || !below.selfIssued) {
                    NameConstraintRules.check(nc.get(), below, roleOf(j, last).describe(below),
                            roleOf(i, last).describe(ca));
                }
            }
        }
        NameConstraintRules.checkDirectoryEmailAndUri(path, i -> roleOf(i, last).describe(path.get(i)));
        if (++fullValidations > MAX_FULL_VALIDATIONS) {
            throw limit();
        }
        // The JDK checks every signature below the anchor again.
        budget.charge(last);
        jdkValidate(path, anchor.trustAnchor());
    }

    /**
     * The JDK's PKIX validation of the path up to the anchor. The JDK also checks a certificate's
     * subject common name against DNS and IP name constraints when it has no SAN of that type; this
     * verifier never takes a name from the common name and has checked every name form itself, so
     * such a refusal at certificate {@code i} is set aside and the JDK validates the rest of the
     * path, certificate {@code i} included, from the CA right above it (whose own checks passed).
     * That CA and those above it are then validated already (the JDK works from the anchor down),
     * and their path length, name constraints and key usage are this verifier's own checks of the
     * whole path; their certificate policy state is not, so {@link #checkPolicies} processes the
     * policies of the whole path once more.
     */
    private void jdkValidate(List<CertificateView> path, TrustAnchor anchor)
            throws PeerVerificationException {
        int anchorIndex = path.size() - 1;
        TrustAnchor trustAnchor = anchor;
        while (true) {
            try {
                pkixValidate(CertPathValidator.getInstance("PKIX"), path.subList(0, anchorIndex), trustAnchor);
                if (anchorIndex < path.size() - 1) {
                    checkPolicies(path, anchor);
                }
                return;
            } catch (CertPathValidatorException e) {
                int index = e.getIndex();
                if (e.getReason() == PKIXReason.INVALID_NAME && index >= 0 && index + 1 < anchorIndex) {
                    anchorIndex = index + 1;
                    trustAnchor = new TrustAnchor(path.get(anchorIndex).certificate, null);
                    continue;
                }
                String who = index >= 0 && index < anchorIndex
                        ? roleOf(index, path.size() - 1).describe(path.get(index)) : "the path";
                throw new PeerVerificationException(reasonOf(e), "PKIX validation failed at " + who + ": "
                        + LogSafe.text(e.getMessage()), e);
            } catch (NoSuchAlgorithmException e) {
                throw new PeerVerificationException(Reason.MALFORMED, "this JVM has no PKIX validator", e);
            }
        }
    }

    /**
     * RFC 5280 policy processing (6.1.3 (d)-(f), 6.1.4 (a)-(b), (h)-(j), 6.1.5) over the whole path
     * from the real trust anchor, after the JDK validated part of it from a CA below: that lost the
     * policy state of every CA above (explicit policy required, mappings and anyPolicy inhibited,
     * the valid policy tree). Only a policy constraints extension can make a path fail for its
     * policies when, as here, any initial policy is acceptable; when no certificate has one (or
     * policy mappings or inhibitAnyPolicy) there is nothing to check. Otherwise Bouncy Castle's PKIX
     * validator (an explicit instance, never registered) processes the whole path: unlike the
     * JDK's, it does not read a subject common name as a DNS name.
     */
    private void checkPolicies(List<CertificateView> path, TrustAnchor anchor) throws PeerVerificationException {
        List<CertificateView> belowAnchor = path.subList(0, path.size() - 1);
        if (belowAnchor.stream().noneMatch(PathSearch::constrainsPolicies)) {
            return;
        }
        budget.charge(belowAnchor.size());
        try {
            pkixValidate(CertPathValidator.getInstance("PKIX", POLICY_VALIDATOR), belowAnchor, anchor);
        } catch (CertPathValidatorException e) {
            int index = e.getIndex();
            String who = index >= 0 && index < belowAnchor.size()
                    ? roleOf(index, path.size() - 1).describe(belowAnchor.get(index)) : "the path";
            throw new PeerVerificationException(Reason.POLICY, "the certificate policies of the path do not hold"
                    + " at " + who + " (" + LogSafe.text(e.getMessage()) + "): every CA's policy constraints"
                    + " apply to the certificates below it; the CA must issue the certificate with a policy"
                    + " its issuers require", e);
        } catch (NoSuchAlgorithmException e) {
            throw new PeerVerificationException(Reason.MALFORMED, "Bouncy Castle has no PKIX validator", e);
        }
    }

    private static boolean constrainsPolicies(CertificateView view) {
        return POLICY_EXTENSIONS.stream().anyMatch(oid -> view.certificate.getExtensionValue(oid) != null);
    }

    private void pkixValidate(CertPathValidator validator, List<CertificateView> certificates, TrustAnchor anchor)
            throws CertPathValidatorException, PeerVerificationException {
        List<X509Certificate> list = new ArrayList<>();
        certificates.forEach(v -> list.add(v.certificate));
        try {
            CertPath certPath = CertificateFactory.getInstance("X.509").generateCertPath(list);
            PKIXParameters parameters = new PKIXParameters(Set.of(anchor));
            parameters.setRevocationEnabled(false);
            parameters.setDate(Date.from(now));
            validator.validate(certPath, parameters);
        } catch (CertPathValidatorException e) {
            throw e;
        } catch (GeneralSecurityException e) {
            throw new PeerVerificationException(Reason.MALFORMED, "the JDK cannot validate this path: "
                    + LogSafe.text(e.getMessage()), e);
        }
    }

    private static Reason reasonOf(CertPathValidatorException e) {
        CertPathValidatorException.Reason reason = e.getReason();
        if (reason instanceof CertPathValidatorException.BasicReason basic) {
            return switch (basic) {
                case EXPIRED -> Reason.EXPIRED;
                case NOT_YET_VALID -> Reason.NOT_YET_VALID;
                case INVALID_SIGNATURE -> Reason.BAD_SIGNATURE;
                case ALGORITHM_CONSTRAINED -> Reason.WEAK_ALGORITHM;
                default -> Reason.MALFORMED;
            };
        }
        if (reason instanceof PKIXReason pkix) {
            return switch (pkix) {
                case NAME_CHAINING, NO_TRUST_ANCHOR -> Reason.UNTRUSTED_ISSUER;
                case NOT_CA_CERT -> Reason.NOT_A_CA;
                case PATH_TOO_LONG -> Reason.PATH_TOO_LONG;
                case INVALID_KEY_USAGE -> Reason.WRONG_KEY_USAGE;
                case INVALID_NAME -> Reason.NAME_CONSTRAINTS;
                case INVALID_POLICY -> Reason.POLICY;
                case UNRECOGNIZED_CRIT_EXT -> Reason.UNSUPPORTED_CRITICAL_EXTENSION;
            };
        }
        return Reason.MALFORMED;
    }

    private List<Anchor> anchorsFor(CertificateView current) {
        List<Anchor> candidates = new ArrayList<>(anchors.getOrDefault(current.issuer, List.of()));
        candidates.sort(Comparator.comparingInt(a -> preference(current, a.view())));
        return candidates;
    }

    private List<CertificateView> intermediatesFor(CertificateView current) {
        List<CertificateView> candidates = new ArrayList<>(intermediates.getOrDefault(current.issuer, List.of()));
        candidates.sort(Comparator.comparingInt(v -> preference(current, v)));
        return candidates;
    }

    /** Lower is better: matching key identifier first, then currently valid certificates. */
    private int preference(CertificateView child, CertificateView issuer) {
        int score = 0;
        if (child.authorityKeyId != null && issuer.subjectKeyId != null) {
            score += Arrays.equals(child.authorityKeyId, issuer.subjectKeyId) ? 0 : 2;
        } else {
            score += 1;
        }
        if (now.isBefore(issuer.certificate.getNotBefore().toInstant())
                || now.isAfter(issuer.certificate.getNotAfter().toInstant())) {
            score += 4;
        }
        return score;
    }

    private void step() throws PeerVerificationException {
        if (++steps > MAX_STEPS) {
            throw limit();
        }
    }

    private static PeerVerificationException limit() {
        return new PeerVerificationException(Reason.PATH_SEARCH_LIMIT, "building a path through the presented"
                + " intermediates needs more work than allowed; the peer should send only its own chain");
    }

    private void record(PeerVerificationException failure, int score) {
        if (score > bestScore) {
            bestScore = score;
            bestFailure = failure;
        }
    }

    private static Role roleOf(int index, int last) {
        return index == 0 ? Role.END_ENTITY : index == last ? Role.ANCHOR : Role.INTERMEDIATE;
    }

    private static String describe(CertificateView view, boolean leaf) {
        return (leaf ? Role.END_ENTITY : Role.INTERMEDIATE).describe(view);
    }
}
