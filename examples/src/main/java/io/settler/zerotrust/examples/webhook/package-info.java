/**
 * Outbound webhooks: the webhook service that accepts events from the job worker over mTLS with a
 * certificate-bound token and delivers them signed
 * ({@link io.settler.zerotrust.examples.webhook.WebhookService},
 * {@link io.settler.zerotrust.examples.webhook.WebhookSignature}), and a receiver standing in for a
 * customer's endpoint that checks the signatures
 * ({@link io.settler.zerotrust.examples.webhook.WebhookReceiver}).
 */
@NullMarked
package io.settler.zerotrust.examples.webhook;

import org.jspecify.annotations.NullMarked;
