/**
 * The job worker: runs the jobs the API server publishes on the signed queue, as the least
 * privileged PostgreSQL role and Redis user, and tells the webhook service over mTLS with a
 * certificate-bound token ({@link io.settler.zerotrust.examples.worker.JobWorker}).
 */
@NullMarked
package io.settler.zerotrust.examples.worker;

import org.jspecify.annotations.NullMarked;
