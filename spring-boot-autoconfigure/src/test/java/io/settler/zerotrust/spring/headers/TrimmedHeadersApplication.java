package io.settler.zerotrust.spring.headers;

import io.settler.zerotrust.spring.ZeroTrustSecurity;
import io.settler.zerotrust.spring.hello.HelloController;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Import;
import org.springframework.security.config.Customizer;
import org.springframework.security.config.annotation.web.builders.HttpSecurity;
import org.springframework.security.web.SecurityFilterChain;

/** A service only other services call, keeping only the cache headers, as the README shows. */
@SpringBootApplication(proxyBeanMethods = false)
@Import(HelloController.class)
public class TrimmedHeadersApplication {

    @Bean
    SecurityFilterChain trimmed(HttpSecurity http, ZeroTrustSecurity zeroTrust) {
        return http.authorizeHttpRequests(requests -> requests.anyRequest().authenticated())
                .with(zeroTrust.configurer(), Customizer.withDefaults())
                .headers(headers -> headers.defaultsDisabled().cacheControl(Customizer.withDefaults()))
                .build();
    }
}
