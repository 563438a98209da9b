/** Service identities: who a peer is, in the SPIFFE form carried by certificates. */
@NullMarked
package io.settler.zerotrust.identity;

import org.jspecify.annotations.NullMarked;
