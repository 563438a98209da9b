/**
 * Spring Boot benchmarks: requests through a Boot server with the starter against the same Boot application on
 * Boot's own SSL bundle.
 */
@NullMarked
package io.settler.zerotrust.benchmarks.spring;

import org.jspecify.annotations.NullMarked;
