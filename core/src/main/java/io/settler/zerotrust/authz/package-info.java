/** Peer authorization: who may connect, by verified service identity and source network. */
@NullMarked
package io.settler.zerotrust.authz;

import org.jspecify.annotations.NullMarked;
