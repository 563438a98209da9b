/** The signed queue against raw Lettuce stream commands on the same TLS Redis. */
package io.settler.zerotrust.benchmarks.queue;
