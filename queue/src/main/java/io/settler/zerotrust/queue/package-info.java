/**
 * A job queue on Redis Streams in which every message carries a one-time, scoped service token
 * that workers verify before the handler sees anything.
 *
 * <p>Not implemented yet: this module is filled in by the redis-tls and queue issue.
 */
package io.settler.zerotrust.queue;
