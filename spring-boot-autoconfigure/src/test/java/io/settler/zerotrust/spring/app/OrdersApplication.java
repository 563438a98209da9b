package io.settler.zerotrust.spring.app;

import io.settler.zerotrust.spring.ZeroTrustAuthentication;
import io.settler.zerotrust.spring.ZeroTrustSecurity;
import io.settler.zerotrust.testkit.RecordingAuditLog;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.context.annotation.Bean;
import org.springframework.http.HttpMethod;
import org.springframework.security.access.prepost.PreAuthorize;
import org.springframework.security.config.Customizer;
import org.springframework.security.config.annotation.method.configuration.EnableMethodSecurity;
import org.springframework.security.config.annotation.web.builders.HttpSecurity;
import org.springframework.security.core.annotation.AuthenticationPrincipal;
import org.springframework.security.web.SecurityFilterChain;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RestController;

/** The service under test: orders, with a scope rule in the filter chain and one on a method. */
@SpringBootApplication(proxyBeanMethods = false)
@EnableMethodSecurity
public class OrdersApplication {

    /** Records and logs every audit event (and marks the audit coverage). */
    @Bean
    RecordingAuditLog auditLog() {
        return RecordingAuditLog.logging();
    }

    /** POST /orders needs orders:write; everything else a valid token. */
    @Bean
    SecurityFilterChain api(HttpSecurity http, ZeroTrustSecurity zeroTrust) {
        return http.authorizeHttpRequests(requests -> requests
                        .requestMatchers(HttpMethod.POST, "/orders").hasAuthority("SCOPE_orders:write")
                        .anyRequest().authenticated())
                .with(zeroTrust.configurer(), Customizer.withDefaults())
                .build();
    }

    /** The endpoints. */
    @RestController
    static class Orders {

        @GetMapping("/orders")
        String list(@AuthenticationPrincipal Object caller) {
            return "orders for " + caller;
        }

        @PostMapping("/orders")
        String create(ZeroTrustAuthentication caller) {
            return "created by " + caller.getName() + " " + caller.token().scopes();
        }

        @GetMapping("/admin")
        @PreAuthorize("hasAuthority('SCOPE_orders:admin')")
        String admin() {
            return "admin";
        }
    }
}
