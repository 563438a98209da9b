/**
 * The library as numbers: {@link io.settler.zerotrust.micrometer.ZeroTrustMetrics} turns every
 * audited decision into Micrometer counters and timers named by the audit catalogue, and watches
 * the credentials' expiry and rotation with gauges.
 */
@NullMarked
package io.settler.zerotrust.micrometer;

import org.jspecify.annotations.NullMarked;
