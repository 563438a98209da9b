package io.settler.zerotrust.testkit;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Gives a JUnit test a real TLS Redis: annotate the class (or a method or parameter) and declare a
 * {@link LocalRedis} parameter on a constructor, test or lifecycle method.
 *
 * <pre>{@code
 * @TlsRedis
 * class JobQueueTest {
 *     @Test
 *     void enqueues(LocalRedis redis) {
 *         redis.createUser("jobs_worker", password, "~jobs:* +@stream +@connection");
 *         ...
 *     }
 * }
 * }</pre>
 *
 * <p>One server per test run (JVM), without an append-only file, started on first use and stopped
 * when the run ends, so test classes share it: give users and keys names of their own. Tests that
 * restart Redis build their own with {@link LocalRedis#builder}. Its CA is the same one
 * {@link TlsPostgres} servers use ({@link LocalRedis#certificateAuthority()}).
 */
@Documented
@Inherited
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.TYPE, ElementType.METHOD, ElementType.PARAMETER, ElementType.ANNOTATION_TYPE})
@ExtendWith(TlsRedisExtension.class)
public @interface TlsRedis {
}
