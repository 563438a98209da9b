package io.settler.zerotrust.testkit;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/** Runs the real libpq client, psql, against a test server: the way to try what pgjdbc cannot express. */
final class Psql {

    private Psql() {
    }

    /**
     * Runs {@code select current_user} with the given libpq connection string, as this JVM's user,
     * with HOME set to {@code home} (so no ~/.postgresql client certificate is picked up).
     */
    static Commands.Result selectCurrentUser(Path home, String conninfo) {
        return Commands.run(List.of(Binaries.postgres().psql().toString(), "--no-psqlrc", "--no-align",
                        "--tuples-only", "--command", "select current_user", conninfo),
                home, Map.of("PGCONNECT_TIMEOUT", "10"), "", Duration.ofSeconds(30));
    }
}
