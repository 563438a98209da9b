/**
 * A hardened Lettuce client: TLS 1.3 with full peer verification, client certificates and ACL
 * credentials.
 *
 * <p>Not implemented yet: this module is filled in by the redis-tls issue.
 */
package io.settler.zerotrust.redis;
