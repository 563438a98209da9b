/** The signed queue against raw Lettuce stream commands on the same TLS Redis. */
@NullMarked
package io.settler.zerotrust.benchmarks.queue;

import org.jspecify.annotations.NullMarked;
