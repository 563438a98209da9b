package io.settler.zerotrust.spring.plain;

import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

/** What a user writes with the starter and nothing else: no filter chain, no audit log of its own. */
@SpringBootApplication(proxyBeanMethods = false)
public class PlainApplication {

    /** One endpoint. */
    @RestController
    static class Hello {

        @GetMapping("/hello")
        String hello() {
            return "hello";
        }
    }
}
