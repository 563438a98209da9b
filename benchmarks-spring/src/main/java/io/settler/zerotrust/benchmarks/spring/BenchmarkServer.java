package io.settler.zerotrust.benchmarks.spring;

import io.settler.zerotrust.benchmarks.spring.bundle.BundleApplication;
import io.settler.zerotrust.benchmarks.spring.security.SecurityOnlyApplication;
import io.settler.zerotrust.benchmarks.spring.zerotrust.ZeroTrustApplication;
import java.io.File;
import java.util.Arrays;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.web.server.context.WebServerPortFileWriter;

/**
 * The entry point of a benchmarked application's own JVM ({@link ServerProcess} starts it): runs the
 * application named by the first argument, writes its HTTPS port to the file named by the second, passes
 * the rest ({@code --name=value}) to Spring Boot, and exits when the JVM that started it does, so that
 * an interrupted benchmark leaves no server behind.
 */
public final class BenchmarkServer {

    private BenchmarkServer() {
    }

    /**
     * Runs the application.
     *
     * @param args {@code baseline}, {@code springSecurityOnly} or {@code starter}; the port file; Spring
     *     Boot's arguments
     */
    public static void main(String[] args) {
        if (args.length < 2) {
            throw new IllegalArgumentException("usage: BenchmarkServer <application> <port file> [--name=value ...]");
        }
        Class<?> application = switch (args[0]) {
            case "baseline" -> BundleApplication.class;
            case "springSecurityOnly" -> SecurityOnlyApplication.class;
            case "starter" -> ZeroTrustApplication.class;
            default -> throw new IllegalArgumentException("no benchmarked application named " + args[0]);
        };
        ProcessHandle.current().parent().ifPresent(parent -> parent.onExit().thenRun(() -> System.exit(1)));
        SpringApplication spring = new SpringApplication(application);
        spring.addListeners(new WebServerPortFileWriter(new File(args[1])));
        spring.run(Arrays.copyOfRange(args, 2, args.length));
    }
}
