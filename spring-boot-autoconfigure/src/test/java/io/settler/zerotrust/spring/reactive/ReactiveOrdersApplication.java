package io.settler.zerotrust.spring.reactive;

import io.settler.zerotrust.spring.ZeroTrustAuthentication;
import io.settler.zerotrust.spring.ZeroTrustReactiveSecurity;
import io.settler.zerotrust.testkit.RecordingAuditLog;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.context.annotation.Bean;
import org.springframework.http.HttpMethod;
import org.springframework.security.config.web.server.ServerHttpSecurity;
import org.springframework.security.web.server.SecurityWebFilterChain;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RestController;

/** The WebFlux service under test: orders on Reactor Netty, with a scope rule in the filter chain. */
@SpringBootApplication(proxyBeanMethods = false)
public class ReactiveOrdersApplication {

    /** Records and logs every audit event (and marks the audit coverage). */
    @Bean
    RecordingAuditLog auditLog() {
        return RecordingAuditLog.logging();
    }

    /** POST /orders needs orders:write; everything else a valid token. */
    @Bean
    SecurityWebFilterChain api(ServerHttpSecurity http, ZeroTrustReactiveSecurity zeroTrust) {
        return zeroTrust.configure(http)
                .authorizeExchange(exchanges -> exchanges
                        .pathMatchers(HttpMethod.POST, "/orders").hasAuthority("SCOPE_orders:write")
                        .anyExchange().authenticated())
                .build();
    }

    /** The endpoints. */
    @RestController
    static class Orders {

        @GetMapping("/orders")
        String list(ZeroTrustAuthentication caller) {
            return "orders for " + caller.getPrincipal();
        }

        @PostMapping("/orders")
        String create(ZeroTrustAuthentication caller) {
            return "created by " + caller.getName() + " " + caller.token().scopes();
        }
    }
}
