package io.settler.zerotrust.spring.hello;

import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

/** The one endpoint of the test applications that need no more: {@code GET /hello} answers {@code hello}. */
@RestController
public class HelloController {

    /**
     * The answer.
     *
     * @return {@code hello}
     */
    @GetMapping("/hello")
    public String hello() {
        return "hello";
    }
}
