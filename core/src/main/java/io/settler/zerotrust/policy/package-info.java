/**
 * The policy model: services, their identities, the scopes each may hold, and the peers each
 * accepts from which networks; built in code or loaded from JSON.
 */
@NullMarked
package io.settler.zerotrust.policy;

import org.jspecify.annotations.NullMarked;
