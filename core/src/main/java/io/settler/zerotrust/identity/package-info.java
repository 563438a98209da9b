/** Service identities: who a peer is, in the SPIFFE form carried by certificates. */
package io.settler.zerotrust.identity;
