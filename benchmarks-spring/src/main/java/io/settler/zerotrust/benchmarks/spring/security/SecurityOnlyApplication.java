package io.settler.zerotrust.benchmarks.spring.security;

import io.settler.zerotrust.benchmarks.spring.HelloController;
import io.settler.zerotrust.benchmarks.spring.ResponseHeaders;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.security.autoconfigure.UserDetailsServiceAutoConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Import;
import org.springframework.core.env.Environment;
import org.springframework.security.config.annotation.web.builders.HttpSecurity;
import org.springframework.security.config.http.SessionCreationPolicy;
import org.springframework.security.web.SecurityFilterChain;

/**
 * {@link HelloController} on Boot's own SSL bundle (as {@code BundleApplication}) behind a stateless Spring
 * Security filter chain that lets every request through: what Spring Security's filters cost by themselves, so
 * the benchmark shows how much of the starter's cost is the framework's and how much the library's.
 */
@SpringBootApplication(proxyBeanMethods = false, exclude = UserDetailsServiceAutoConfiguration.class)
@Import(HelloController.class)
public class SecurityOnlyApplication {

    /**
     * Every request permitted, no session, no request cache, no logout: the starter's chain without its
     * authentication.
     *
     * @param http Spring Security's builder
     * @param environment where {@link ResponseHeaders} reads which headers to write
     * @return the chain
     * @throws Exception as {@link HttpSecurity#build()}
     */
    @Bean
    SecurityFilterChain open(HttpSecurity http, Environment environment) throws Exception {
        ResponseHeaders.apply(http, environment);
        return http.authorizeHttpRequests(requests -> requests.anyRequest().permitAll())
                .sessionManagement(sessions -> sessions.sessionCreationPolicy(SessionCreationPolicy.STATELESS))
                .requestCache(cache -> cache.disable())
                .csrf(csrf -> csrf.disable())
                .logout(logout -> logout.disable())
                .build();
    }
}
