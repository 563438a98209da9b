/**
 * The example API server ({@link io.settler.zerotrust.examples.api.ApiServer}): mTLS and service
 * tokens from the gateway in, tenant-scoped PostgreSQL, a Redis cache and a signed job queue out.
 */
@NullMarked
package io.settler.zerotrust.examples.api;

import org.jspecify.annotations.NullMarked;
