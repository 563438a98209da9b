/**
 * Micrometer metrics of the library: a counter per audited decision, a timer per timed one, gauges
 * of credential expiry and rotation staleness. Micrometer's types ({@code MeterRegistry}) and
 * core's ({@code AuditLog}, {@code CredentialSource}) are in the API, hence both are required
 * transitively. micrometer-core is an automatic module (a stable Automatic-Module-Name,
 * micrometer.core), hence the suppressed warnings.
 */
@SuppressWarnings({"requires-automatic", "requires-transitive-automatic"})
module io.settler.zerotrust.micrometer {
    // @NullMarked packages, @Nullable in the API: the annotations are part of what users compile against.
    requires static transitive org.jspecify;
    requires transitive io.settler.zerotrust.core;
    requires transitive micrometer.core;

    exports io.settler.zerotrust.micrometer;
}
