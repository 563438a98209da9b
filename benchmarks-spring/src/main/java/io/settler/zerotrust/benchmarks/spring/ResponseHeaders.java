package io.settler.zerotrust.benchmarks.spring;

import org.springframework.core.env.Environment;
import org.springframework.security.config.Customizer;
import org.springframework.security.config.annotation.web.builders.HttpSecurity;

/**
 * Which of Spring Security's default response headers the two applications with Spring Security write, from
 * the property {@code bench.headers} (or the environment variable {@code BENCH_HEADERS}, which every server
 * inherits): {@code all}, the default, for Spring Security's seven, or {@code cache} for its cache headers only
 * ({@code Cache-Control}, {@code Pragma}, {@code Expires}), the trim the starter's README shows. So a run
 * measures what that trim is worth.
 */
public final class ResponseHeaders {

    /** The property naming the headers. */
    static final String PROPERTY = "bench.headers";

    private ResponseHeaders() {
    }

    /**
     * Configures the chain's headers as {@code bench.headers} says.
     *
     * @param http the chain being built
     * @param environment where {@code bench.headers} is read
     * @throws IllegalArgumentException for a value other than {@code all} or {@code cache}
     */
    public static void apply(HttpSecurity http, Environment environment) {
        String headers = environment.getProperty(PROPERTY, "all");
        switch (headers) {
            case "all" -> {
                // Spring Security's defaults
            }
            case "cache" -> http.headers(writers -> writers.defaultsDisabled().cacheControl(Customizer.withDefaults()));
            default -> throw new IllegalArgumentException(
                    PROPERTY + " must be 'all' or 'cache', not '" + headers + "'");
        }
    }
}
