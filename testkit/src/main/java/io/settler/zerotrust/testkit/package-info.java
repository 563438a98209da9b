/**
 * Real TLS servers for tests: {@link io.settler.zerotrust.testkit.LocalPostgres},
 * {@link io.settler.zerotrust.testkit.LocalRedis} and {@link io.settler.zerotrust.testkit.LocalRabbitMq}
 * start PostgreSQL, Redis and RabbitMQ on loopback, configured from a
 * {@link io.settler.zerotrust.pki.DevCertificateAuthority} to accept TLS 1.3 with client
 * certificates only ({@link io.settler.zerotrust.testkit.LocalRedisCluster} and
 * {@link io.settler.zerotrust.testkit.LocalRabbitMqCluster} start three-node clusters);
 * {@link io.settler.zerotrust.testkit.TlsPostgres} and {@link io.settler.zerotrust.testkit.TlsRedis}
 * inject them into JUnit tests.
 *
 * <p>And the fixtures the modules' tests share: {@link io.settler.zerotrust.testkit.RecordingAuditLog},
 * an audit log that keeps events for assertions, and {@link io.settler.zerotrust.testkit.MutableClock},
 * a clock the test moves by hand.
 */
@NullMarked
package io.settler.zerotrust.testkit;

import org.jspecify.annotations.NullMarked;
