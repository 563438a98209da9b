/** The benchmarked application with the starter: mTLS by the policy, service tokens, a scope rule. */
@NullMarked
package io.settler.zerotrust.benchmarks.spring.zerotrust;

import org.jspecify.annotations.NullMarked;
