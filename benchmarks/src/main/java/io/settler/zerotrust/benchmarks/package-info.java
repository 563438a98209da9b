/**
 * JMH benchmarks, each measured beside a baseline in the same run, and the runner that prints
 * them side by side: {@link io.settler.zerotrust.benchmarks.BenchmarkRunner}, started by
 * {@code bin/benchmarks}. Nothing here is run by the build.
 */
@NullMarked
package io.settler.zerotrust.benchmarks;

import org.jspecify.annotations.NullMarked;
