package io.settler.zerotrust.cli;

import io.settler.zerotrust.cli.render.ServerConfigRenderer;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Option;

/**
 * Which database of the policy PostgreSQL's configuration is rendered for: the options {@code zt render
 * postgres} and {@code zt drift postgres} share, so that drift compares with exactly what render wrote.
 */
final class DatabaseOptions {

    @Option(names = "--database-service", paramLabel = "<service>",
            description = "postgres: the service of the policy that stands for the database (required).")
    @Nullable String databaseService;

    @Option(names = "--database", paramLabel = "<name>",
            description = "postgres: the database name (default: the database service's name).")
    @Nullable String database;

    @Option(names = "--tenant-table", paramLabel = "<table>",
            description = "postgres: a table with row-level security forced by tenant (repeatable).")
    List<String> tenantTables = new ArrayList<>();

    /** Whether any of these options was given. */
    boolean given() {
        return databaseService != null || database != null || !tenantTables.isEmpty();
    }

    /**
     * Makes {@code renderer} render PostgreSQL's configuration (only) for this database.
     *
     * @param command the command, for the usage error, e.g. {@code render postgres}
     * @return the database name
     * @throws UsageException without {@code --database-service}
     */
    String renderPostgres(ServerConfigRenderer.Builder renderer, String command) {
        String service = databaseService;
        if (service == null) {
            throw new UsageException(command + " needs --database-service <service>: the service of the policy"
                    + " that stands for the database");
        }
        String name = database == null ? service : database;
        renderer.database(service, name).withoutRedis();
        tenantTables.forEach(renderer::tenantTable);
        return name;
    }
}
