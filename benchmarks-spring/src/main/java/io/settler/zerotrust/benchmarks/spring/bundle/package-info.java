/** The baseline application: Boot's own SSL bundle with client certificates required, no token check. */
@NullMarked
package io.settler.zerotrust.benchmarks.spring.bundle;

import org.jspecify.annotations.NullMarked;
