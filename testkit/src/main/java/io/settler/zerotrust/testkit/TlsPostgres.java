package io.settler.zerotrust.testkit;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Gives a JUnit test a real TLS PostgreSQL: annotate the class (or a method or parameter) and
 * declare a {@link LocalPostgres} parameter on a constructor, test or lifecycle method.
 *
 * <pre>{@code
 * @TlsPostgres
 * class OrderRepositoryTest {
 *     @Test
 *     void storesOrders(LocalPostgres postgres) throws SQLException {
 *         postgres.createRole("orders_app");
 *         postgres.createDatabase("orders", "orders_app");
 *         try (Connection c = postgres.connect("orders", "orders_app")) { ... }
 *     }
 * }
 * }</pre>
 *
 * <p>One server per test run (JVM), started on first use and stopped when the run ends, so test
 * classes share it: give roles and databases names of their own. Its CA is the same one
 * {@link TlsRedis} servers use ({@link LocalPostgres#certificateAuthority()}).
 */
@Documented
@Inherited
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.TYPE, ElementType.METHOD, ElementType.PARAMETER, ElementType.ANNOTATION_TYPE})
@ExtendWith(TlsPostgresExtension.class)
public @interface TlsPostgres {
}
