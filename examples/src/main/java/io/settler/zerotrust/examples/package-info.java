/**
 * Runnable examples. For now {@link io.settler.zerotrust.examples.Demo} shows what has landed:
 * mTLS between services with identity checks, and the testkit's TLS PostgreSQL and Redis
 * refusing insecure clients. The API server, job worker and webhook service come with the
 * examples issue.
 */
@NullMarked
package io.settler.zerotrust.examples;

import org.jspecify.annotations.NullMarked;
