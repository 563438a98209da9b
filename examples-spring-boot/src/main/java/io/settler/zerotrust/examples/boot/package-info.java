/**
 * The example API server as a Spring Boot 4 application ({@link io.settler.zerotrust.examples.boot.BootApiServer}):
 * the same orders, policy and Zone 2 as the hand-wired {@link io.settler.zerotrust.examples.api.ApiServer}, made
 * zero-trust by the starter's {@code zerotrust.*} properties instead of code.
 */
@NullMarked
package io.settler.zerotrust.examples.boot;

import org.jspecify.annotations.NullMarked;
