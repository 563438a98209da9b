package io.settler.zerotrust.spring.headers;

import io.settler.zerotrust.spring.ZeroTrustSecurity;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.context.annotation.Bean;
import org.springframework.security.config.Customizer;
import org.springframework.security.config.annotation.web.builders.HttpSecurity;
import org.springframework.security.web.SecurityFilterChain;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

/** A service only other services call, keeping only the cache headers, as the README shows. */
@SpringBootApplication(proxyBeanMethods = false)
public class TrimmedHeadersApplication {

    @Bean
    SecurityFilterChain trimmed(HttpSecurity http, ZeroTrustSecurity zeroTrust) {
        return http.authorizeHttpRequests(requests -> requests.anyRequest().authenticated())
                .with(zeroTrust.configurer(), Customizer.withDefaults())
                .headers(headers -> headers.defaultsDisabled().cacheControl(Customizer.withDefaults()))
                .build();
    }

    /** One endpoint. */
    @RestController
    static class Hello {

        @GetMapping("/hello")
        String hello() {
            return "hello";
        }
    }
}
