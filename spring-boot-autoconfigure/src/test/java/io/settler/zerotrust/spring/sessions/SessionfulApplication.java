package io.settler.zerotrust.spring.sessions;

import io.settler.zerotrust.spring.ZeroTrustSecurity;
import io.settler.zerotrust.spring.hello.HelloController;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Import;
import org.springframework.security.config.Customizer;
import org.springframework.security.config.annotation.web.builders.HttpSecurity;
import org.springframework.security.config.http.SessionCreationPolicy;
import org.springframework.security.web.SecurityFilterChain;

/** A careless chain: the starter's authentication, then HTTP sessions turned back on. */
@SpringBootApplication(proxyBeanMethods = false)
@Import(HelloController.class)
public class SessionfulApplication {

    @Bean
    SecurityFilterChain sessionful(HttpSecurity http, ZeroTrustSecurity zeroTrust) {
        return http.authorizeHttpRequests(requests -> requests.anyRequest().authenticated())
                .with(zeroTrust.configurer(), Customizer.withDefaults())
                .sessionManagement(sessions -> sessions.sessionCreationPolicy(SessionCreationPolicy.ALWAYS))
                .build();
    }
}
