/**
 * The API server, job worker and webhook service wired together, and the demo that runs them.
 *
 * <p>Not implemented yet: this module is filled in by the examples issue.
 */
package io.settler.zerotrust.examples;
