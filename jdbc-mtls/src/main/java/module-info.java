/**
 * PostgreSQL over mTLS: a HikariCP DataSource (its type is in the API, as are java.sql's),
 * certificate-to-role mapping, tenant scope and start-up checks.
 *
 * <p>The PostgreSQL driver creates this module's socket factories by class name: the package is
 * exported, which is all that reflection needs, the factories and their constructors being public.
 * pgjdbc is an automatic module (a stable Automatic-Module-Name, org.postgresql.jdbc), hence the
 * suppressed requires-automatic warning.
 */
@SuppressWarnings("requires-automatic")
module io.settler.zerotrust.jdbc {
    // @NullMarked packages, @Nullable in the API: the annotations are part of what users compile against.
    requires static transitive org.jspecify;
    requires transitive io.settler.zerotrust.core;
    requires transitive com.zaxxer.hikari;
    requires transitive java.sql;
    requires org.postgresql.jdbc;
    requires org.slf4j;
    requires java.naming;

    exports io.settler.zerotrust.jdbc;
}
