/**
 * Audit events: every accepted and refused peer, rotation, expiry warning and start-up posture,
 * as structured events on a dedicated logger; never key material.
 */
@NullMarked
package io.settler.zerotrust.audit;

import org.jspecify.annotations.NullMarked;
