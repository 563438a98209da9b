/**
 * Real TLS PostgreSQL, Redis and RabbitMQ servers for tests, and the JUnit extensions that give them to a test.
 *
 * <p>{@code @TlsPostgres} and {@code @TlsRedis} name package-private extensions, which JUnit creates
 * by reflection: the package is opened to JUnit for that, and to nothing else.
 */
module io.settler.zerotrust.testkit {
    // @NullMarked packages, @Nullable in the API: the annotations are part of what users compile against.
    requires static transitive org.jspecify;
    requires transitive io.settler.zerotrust.core;
    requires transitive org.junit.jupiter.api;
    requires transitive java.sql;
    requires org.slf4j;
    // LocalRabbitMq checks that a definitions file is JSON: RabbitMQ would ignore it silently.
    requires com.fasterxml.jackson.databind;

    exports io.settler.zerotrust.testkit;
    opens io.settler.zerotrust.testkit to org.junit.platform.commons;
}
