/** The webhook service's outbound signing: timestamped HMAC signatures receivers can check. */
package io.settler.zerotrust.examples.webhook;
