package io.settler.zerotrust.benchmarks.spring;

import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

/** The one endpoint every benchmarked application serves: {@code GET /hello}, a two-byte body. */
@RestController
public class HelloController {

    /**
     * Answers every caller the same.
     *
     * @return {@code ok}
     */
    @GetMapping("/hello")
    public String hello() {
        return "ok";
    }
}
