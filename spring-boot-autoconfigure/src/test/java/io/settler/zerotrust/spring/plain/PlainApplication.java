package io.settler.zerotrust.spring.plain;

import io.settler.zerotrust.spring.hello.HelloController;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.context.annotation.Import;

/** What a user writes with the starter and nothing else: no filter chain, no audit log of its own. */
@SpringBootApplication(proxyBeanMethods = false)
@Import(HelloController.class)
public class PlainApplication {
}
