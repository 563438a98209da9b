/** Peer authorization: who may connect, by verified service identity and source network. */
package io.settler.zerotrust.authz;
