/** The middle application: Boot's own SSL bundle and Spring Security letting every request through. */
@NullMarked
package io.settler.zerotrust.benchmarks.spring.security;

import org.jspecify.annotations.NullMarked;
