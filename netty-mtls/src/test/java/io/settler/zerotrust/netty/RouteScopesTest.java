package io.settler.zerotrust.netty;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class RouteScopesTest {

    private final RouteScopes routes = RouteScopes.builder()
            .route(HttpMethod.GET, "/jobs", "jobs:read")
            .route(HttpMethod.POST, "/jobs", "jobs:write")
            .route(HttpMethod.GET, "/jobs/admin", "jobs:admin")
            .anyMethod("/health")
            .build();

    private Optional<Set<String>> scopes(HttpMethod method, String uri) {
        return routes.requiredScopes(new DefaultHttpRequest(HttpVersion.HTTP_1_1, method, uri));
    }

    @Test
    void longestPrefixAndMethodDecide() {
        assertThat(scopes(HttpMethod.GET, "/jobs")).contains(Set.of("jobs:read"));
        assertThat(scopes(HttpMethod.GET, "/jobs/42?verbose=1")).contains(Set.of("jobs:read"));
        assertThat(scopes(HttpMethod.POST, "/jobs/42")).contains(Set.of("jobs:write"));
        assertThat(scopes(HttpMethod.GET, "/jobs/admin/users")).contains(Set.of("jobs:admin"));
        assertThat(scopes(HttpMethod.DELETE, "/health")).contains(Set.of());
    }

    @Test
    void refusesRouteNotInTheTable() {
        assertThat(scopes(HttpMethod.DELETE, "/jobs/42")).isEmpty();
        assertThat(scopes(HttpMethod.GET, "/jobsx")).isEmpty();
        assertThat(scopes(HttpMethod.GET, "/")).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"/jobs/../jobs/admin/users", "/jobs/./admin", "/jobs//admin", "/jobs/%2e%2e/admin",
            "/jobs%2Fadmin", "/jobs\\admin", "jobs"})
    void refusesAmbiguousPathToEscapeItsRouteScope(String uri) {
        assertThat(scopes(HttpMethod.GET, uri)).isEmpty();
    }

    @Test
    void refusesMalformedPrefix() {
        assertThatThrownBy(() -> RouteScopes.builder().anyMethod("jobs")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> RouteScopes.builder().anyMethod("/jobs/"))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> RouteScopes.builder().anyMethod("/a/../b"))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
