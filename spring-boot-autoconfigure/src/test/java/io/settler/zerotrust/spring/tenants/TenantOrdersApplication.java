package io.settler.zerotrust.spring.tenants;

import io.settler.zerotrust.testkit.RecordingAuditLog;
import java.util.List;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.context.annotation.Bean;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.transaction.annotation.Transactional;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/**
 * What a user writes for tenant data with the starter: a controller, a {@code JdbcTemplate} and
 * {@code @Transactional}; no tenant code. The default filter chain (every request needs a token).
 */
@SpringBootApplication(proxyBeanMethods = false)
public class TenantOrdersApplication {

    /** Records and logs every audit event (and marks the audit coverage). */
    @Bean
    RecordingAuditLog auditLog() {
        return RecordingAuditLog.logging();
    }

    /** The tenant's orders. */
    @RestController
    static class Orders {

        private final JdbcTemplate jdbc;

        Orders(JdbcTemplate jdbc) {
            this.jdbc = jdbc;
        }

        @GetMapping("/orders")
        @Transactional(readOnly = true)
        public List<String> list() {
            return jdbc.queryForList("select item from orders order by item", String.class);
        }

        @PostMapping("/orders")
        @Transactional
        public String add(@RequestParam("item") String item) {
            jdbc.update("insert into orders (tenant_id, item) values (current_setting('app.tenant_id'), ?)", item);
            return "added";
        }

        /** No transaction: a plain pooled connection, no tenant set. */
        @GetMapping("/orders/untransactional")
        public List<String> untransactional() {
            return jdbc.queryForList("select item from orders order by item", String.class);
        }
    }
}
