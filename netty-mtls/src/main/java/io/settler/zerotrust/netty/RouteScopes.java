package io.settler.zerotrust.netty;

import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * Which scopes a request needs, by method and path prefix: the table behind service-token
 * authentication. Fails closed: a request that matches no route, or whose path is ambiguous
 * ({@code ..}, {@code .}, {@code //}, encoded {@code /}, {@code \} or {@code .}), needs
 * {@link Optional#empty()}, which callers refuse. Immutable and thread-safe.
 *
 * <pre>{@code
 * RouteScopes routes = RouteScopes.builder()
 *         .route(HttpMethod.GET, "/jobs", "jobs:read")
 *         .route(HttpMethod.POST, "/jobs", "jobs:write")
 *         .anyMethod("/health")                       // no scope, still authenticated
 *         .build();
 * }</pre>
 */
public final class RouteScopes {

    private record Route(Optional<HttpMethod> method, String prefix, Set<String> scopes) {
        boolean matches(HttpMethod requestMethod, String path) {
            return method.map(requestMethod::equals).orElse(true)
                    && (prefix.equals("/") || path.equals(prefix) || path.startsWith(prefix + "/"));
        }
    }

    private final List<Route> routes;

    private RouteScopes(List<Route> routes) {
        this.routes = routes;
    }

    /** Starts an empty table (which refuses everything). */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * The scopes {@code request} needs: those of the matching route with the longest prefix (a
     * route for a method before one for any method), or empty when no route matches or the path is
     * ambiguous.
     */
    public Optional<Set<String>> requiredScopes(HttpRequest request) {
        String path = new QueryStringDecoder(request.uri()).rawPath();
        if (ambiguous(path)) {
            return Optional.empty();
        }
        return routes.stream().filter(route -> route.matches(request.method(), path))
                .findFirst().map(Route::scopes);
    }

    private static boolean ambiguous(String path) {
        if (!path.startsWith("/") || path.contains("//") || path.contains("\\")) {
            return true;
        }
        String lower = path.toLowerCase(Locale.ROOT);
        if (lower.contains("%2f") || lower.contains("%5c") || lower.contains("%2e")) {
            return true;
        }
        for (String segment : path.split("/", -1)) {
            if (segment.equals(".") || segment.equals("..")) {
                return true;
            }
        }
        return false;
    }

    @Override
    public String toString() {
        return "RouteScopes" + routes;
    }

    /** Builds a {@link RouteScopes}. */
    public static final class Builder {
        private final List<Route> routes = new ArrayList<>();

        private Builder() {
        }

        /** Requests with {@code method} under {@code pathPrefix} (segment-wise) need every one of {@code scopes}. */
        public Builder route(HttpMethod method, String pathPrefix, String... scopes) {
            return add(Optional.of(Objects.requireNonNull(method, "method")), pathPrefix, scopes);
        }

        /** Requests with any method under {@code pathPrefix} need every one of {@code scopes}. */
        public Builder anyMethod(String pathPrefix, String... scopes) {
            return add(Optional.empty(), pathPrefix, scopes);
        }

        private Builder add(Optional<HttpMethod> method, String pathPrefix, String... scopes) {
            Objects.requireNonNull(pathPrefix, "pathPrefix");
            if (!pathPrefix.startsWith("/") || (pathPrefix.length() > 1 && pathPrefix.endsWith("/"))
                    || ambiguous(pathPrefix)) {
                throw new IllegalArgumentException("a path prefix starts with '/', does not end with one and has no"
                        + " '.', '..' or empty segments; got '" + pathPrefix + "'");
            }
            for (String scope : scopes) {
                if (scope == null || scope.isBlank()) {
                    throw new IllegalArgumentException("scopes must not be blank; route " + pathPrefix);
                }
            }
            routes.add(new Route(method, pathPrefix, Set.of(scopes)));
            return this;
        }

        /** Builds the table. */
        public RouteScopes build() {
            List<Route> ordered = new ArrayList<>(routes);
            ordered.sort(Comparator.comparingInt((Route route) -> route.prefix().length()).reversed()
                    .thenComparing(route -> route.method().isEmpty()));
            return new RouteScopes(List.copyOf(ordered));
        }
    }
}
